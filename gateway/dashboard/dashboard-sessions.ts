/**
 * Browser sessions for the dashboard on keyed deployments: an admin key, checked once at sign-in, is exchanged for a
 * random token held in an HttpOnly cookie, so the key never sits in the browser. In memory, per process (a replica
 * behind a load balancer without stickiness asks to sign in again); bounded, oldest evicted first.
 */
export const SESSION_COOKIE = 'switchyard_dashboard';

export class DashboardSessions {
  private readonly sessions = new Map<string, { keyId: string; expiresAt: number }>();

  constructor(
    readonly ttlMs = 12 * 3_600_000,
    private readonly max = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  create(keyId: string): string {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const token = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(token, { keyId, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The key id the session was opened with, or undefined when unknown or expired. */
  check(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const s = this.sessions.get(token);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(token);
      return undefined;
    }
    return s.keyId;
  }

  end(token: string | undefined): void {
    if (token) this.sessions.delete(token);
  }
}
