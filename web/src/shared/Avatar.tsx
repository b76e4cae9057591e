const COLOURS = ["#1f7a8c", "#7b2cbf", "#c2410c", "#2b9348", "#b5179e", "#3a86ff", "#8d5524", "#d62828"];

/** The interlocutor's picture, or their initials on a colour derived from the login. */
export function Avatar({ login, url, size = 40 }: { login: string; url?: string | null; size?: number }) {
  if (url) return <img className="avatar" src={url} alt="" width={size} height={size} />;
  let hash = 0;
  for (const character of login) hash = (hash * 31 + character.charCodeAt(0)) >>> 0;
  const initials = login
    .split(/[-_.\s]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase())
    .join("");
  return (
    <span className="avatar" aria-hidden="true" style={{ width: size, height: size, background: COLOURS[hash % COLOURS.length], fontSize: size * 0.38 }}>
      {initials || "?"}
    </span>
  );
}
