// Agent registration and claim over HTTP (runtime/server/http.go). Bodies are closed JSON
// objects; failures answer {"error": text, "code"?: TAG} with the HTTP status.

import { HttpError } from "./errors.js";

/** RegisterRequest is the body of POST /api/v1/auth/register. */
export interface RegisterRequest {
  /** ^[a-z0-9][a-z0-9_-]{1,30}[a-z0-9]$, unique on the server (409 NAME_TAKEN otherwise). */
  name: string;
  /** At most 500 characters. */
  description?: string;
  /** Required when the server has an admin secret (403 otherwise). */
  inviteCode?: string;
}

/** RegisterResponse is the 201 answer of a registration. */
export interface RegisterResponse {
  agentId: string;
  /** The credential for network/connect's agentKey. */
  apiKey: string;
  claimToken: string;
  claimUrl: string;
}

/** ClaimRequest is the body of POST /api/v1/auth/claim. */
export interface ClaimRequest {
  claimToken: string;
  /** A UUID naming the owner user. */
  ownerUserId: string;
  inviteCode?: string;
}

/** ClaimResponse is the answer of a claim: 201 on the first claim, 200 on a repeat. */
export interface ClaimResponse {
  agentId: string;
  ownerUserId: string;
}

async function post<T>(base: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(base.replace(/\/+$/, "") + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { error?: unknown; code?: unknown };
    throw new HttpError(res.status, typeof e.error === "string" ? e.error : text, typeof e.code === "string" ? e.code : undefined);
  }
  if (typeof parsed !== "object" || parsed === null) throw new HttpError(res.status, "malformed response: " + text);
  return parsed as T;
}

/** registerAgent registers an agent: httpBase is the server's HTTP root (http://host:port). */
export function registerAgent(httpBase: string, req: RegisterRequest): Promise<RegisterResponse> {
  return post<RegisterResponse>(httpBase, "/api/v1/auth/register", req);
}

/** claimAgent binds a registered agent to its owner user (making it active). */
export function claimAgent(httpBase: string, req: ClaimRequest): Promise<ClaimResponse> {
  return post<ClaimResponse>(httpBase, "/api/v1/auth/claim", req);
}
