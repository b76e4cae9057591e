import { useState } from "react";

const COLOURS = ["#1f6f7f", "#6a2aa8", "#b23c0a", "#23773a", "#9c1487", "#2a5fb8", "#7a4a1f", "#b3261e"];

/** The interlocutor's picture, or their initials on a colour derived from the login (also when
 * the picture cannot be loaded). */
export function Avatar({ login, url, size = 40 }: { login: string; url?: string | null; size?: number }) {
  const [failed, setFailed] = useState(false);
  if (url && !failed) {
    return <img className="avatar" src={url} alt="" width={size} height={size} referrerPolicy="no-referrer" onError={() => setFailed(true)} />;
  }
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
