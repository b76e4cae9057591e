// Where and how to sign in: read from /config.json, served next to the app (the local runtime
// writes it from the embedded Cognito; a deployment from its user pool).
export interface WebConfig {
  userPoolId: string;
  clientId: string;
  region: string;
  /** Cognito's endpoint; locally a same-origin proxy of the embedded Cognito. */
  cognitoEndpoint?: string;
  /** USER_SRP_AUTH (default) or USER_PASSWORD_AUTH (local only: moto does not verify SRP proofs). */
  authFlow?: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";
  pollSeconds?: number;
  /** The live channel (ws:// or wss://, or a path of this origin); without it the client polls. */
  websocketUrl?: string;
}

export async function loadConfig(): Promise<WebConfig> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  return (await response.json()) as WebConfig;
}
