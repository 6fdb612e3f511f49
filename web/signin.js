// Sign-in for the upload page: OpenID Connect's authorization code flow with
// PKCE (S256) for a public client, against the issuer's discovery document
// (Cognito's hosted UI is one such issuer). Tokens live in sessionStorage,
// for this tab until it closes, never in localStorage, and are refreshed
// before the access token expires, so a long upload outlives it.

const TOKENS = "signin:tokens";
const PENDING = "signin:pending";
// Refresh this long before the access token expires, or at half its
// lifetime when that is shorter.
const MARGIN_MS = 60 * 1000;

export class SignInError extends Error {}

const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const randomString = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// claims decodes a JWT's payload, for display only: the API verifies tokens,
// the page never needs to.
export function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

const margin = (t) => Math.min(MARGIN_MS, t.lifetime / 2);

// tokenRequest posts a form to a token endpoint (RFC 6749 section 4.1.3 and
// 6): a public client, so no secret, only its client_id.
async function tokenRequest(url, form) {
  let res;
  try {
    res = await fetch(url, { method: "POST", body: new URLSearchParams(form), redirect: "error", cache: "no-store" });
  } catch {
    throw Object.assign(new SignInError(`Cannot reach the sign-in service at ${new URL(url).origin}.`), { retry: true });
  }
  let data = {};
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok || !data.access_token) {
    const why = data.error_description || data.error || `HTTP ${res.status}`;
    // invalid_grant: the code or refresh token is spent, expired or revoked.
    throw Object.assign(new SignInError(`The sign-in service refused: ${why}.`), { grant: data.error === "invalid_grant", retry: res.status >= 500 });
  }
  return data;
}

// SignIn signs the page's user in and out and hands out fresh access
// tokens. onChange(message) runs whenever the signed-in state changes.
export class SignIn {
  constructor(onChange) {
    this.onChange = onChange;
    this.settings = { issuer: "", clientId: "", scopes: "" };
    this.refreshing = null;
    this.timer = 0;
  }

  // configure takes the settings; tokens of another issuer or client are
  // forgotten.
  configure({ issuer, clientId, scopes }) {
    this.settings = { issuer: issuer.trim().replace(/\/+$/, ""), clientId: clientId.trim(), scopes: scopes.trim() || "openid" };
    const t = this.tokens();
    if (t && (t.issuer !== this.settings.issuer || t.clientId !== this.settings.clientId)) this.forget();
    this.schedule();
  }

  get configured() { return !!(this.settings.issuer && this.settings.clientId); }

  tokens() {
    try { return JSON.parse(sessionStorage.getItem(TOKENS) || "null"); } catch { return null; }
  }

  get signedIn() { return !!this.tokens(); }

  // user names the signed-in user: from the ID token if there is one, else
  // from the access token.
  user() {
    const t = this.tokens();
    if (!t) return "";
    const id = claims(t.idToken), access = claims(t.accessToken);
    return id.preferred_username || id.email || access.username || id.sub || access.sub || "";
  }

  // endpoints reads the issuer's discovery document, once per tab.
  async endpoints() {
    const { issuer } = this.settings;
    const key = "signin:discovery:" + issuer;
    let doc = null;
    try { doc = JSON.parse(sessionStorage.getItem(key) || "null"); } catch { /* fetch again */ }
    if (!doc) {
      let res;
      try {
        res = await fetch(issuer + "/.well-known/openid-configuration", { redirect: "error" });
      } catch {
        throw new SignInError(`Cannot reach the sign-in issuer at ${issuer}. Check the issuer setting.`);
      }
      try { doc = res.ok ? await res.json() : null; } catch { doc = null; }
      if (!doc || !doc.authorization_endpoint || !doc.token_endpoint) {
        throw new SignInError(`${issuer} has no usable OpenID discovery document (HTTP ${res.status}). Check the issuer setting.`);
      }
      sessionStorage.setItem(key, JSON.stringify(doc));
    }
    const out = { authorize: doc.authorization_endpoint, token: doc.token_endpoint, endSession: doc.end_session_endpoint || "", revoke: doc.revocation_endpoint || "", logout: "" };
    // Cognito names neither a sign-out nor a revocation endpoint; both sit on
    // the hosted UI's domain, next to its authorize endpoint.
    if (/^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\//.test(issuer + "/")) {
      const domain = new URL(out.authorize).origin;
      out.logout = domain + "/logout";
      out.revoke = out.revoke || domain + "/oauth2/revoke";
    }
    return out;
  }

  // signIn sends the browser to the issuer; it comes back to this page with
  // a code, which finish exchanges.
  async signIn() {
    const ep = await this.endpoints();
    const verifier = randomString(32);
    const state = randomString(16);
    const redirectUri = location.origin + location.pathname;
    const { issuer, clientId, scopes } = this.settings;
    sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, redirectUri, issuer, clientId, tokenEndpoint: ep.token }));
    const q = new URLSearchParams({
      response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope: scopes,
      state, code_challenge: await s256(verifier), code_challenge_method: "S256",
    });
    location.assign(ep.authorize + "?" + q.toString());
  }

  // finish completes a sign-in when the page is the redirect back from the
  // issuer: it checks the state and exchanges the code with its verifier.
  async finish() {
    const q = new URLSearchParams(location.search);
    if (!q.has("state") || !(q.has("code") || q.has("error"))) return;
    let pending = null;
    try { pending = JSON.parse(sessionStorage.getItem(PENDING) || "null"); } catch { /* none */ }
    sessionStorage.removeItem(PENDING);
    // The code works once: keep it out of the history and of bookmarks.
    history.replaceState(null, "", location.pathname);
    if (!pending || pending.state !== q.get("state")) {
      throw new SignInError("This sign-in was not started from this tab, or has already been used. Sign in again.");
    }
    if (q.has("error")) {
      throw new SignInError(`Sign-in failed: ${q.get("error_description") || q.get("error")}.`);
    }
    const got = await tokenRequest(pending.tokenEndpoint, {
      grant_type: "authorization_code", code: q.get("code"), redirect_uri: pending.redirectUri,
      client_id: pending.clientId, code_verifier: pending.verifier,
    });
    this.store(got, pending);
  }

  store(got, { issuer, clientId, tokenEndpoint }) {
    const prev = this.tokens() || {};
    // expires_in, else the token's exp; failing both, a guess that a 401
    // corrects (api() refreshes once on one).
    const expiresIn = Number(got.expires_in) || (claims(got.access_token).exp || 0) - Date.now() / 1000;
    const lifetime = expiresIn > 0 ? Math.max(1000, expiresIn * 1000) : 5 * 60 * 1000;
    sessionStorage.setItem(TOKENS, JSON.stringify({
      issuer, clientId, tokenEndpoint,
      accessToken: got.access_token,
      // A refresh answer may leave out the ID and refresh tokens (Cognito
      // does): the old ones stay valid.
      idToken: got.id_token || prev.idToken || "",
      refreshToken: got.refresh_token || prev.refreshToken || "",
      expiresAt: Date.now() + lifetime,
      lifetime,
    }));
    this.schedule();
    this.onChange();
  }

  forget() {
    sessionStorage.removeItem(TOKENS);
    clearTimeout(this.timer);
  }

  // schedule refreshes the access token shortly before it expires. Browsers
  // slow timers down in background tabs, so accessToken checks again before
  // each call.
  schedule() {
    clearTimeout(this.timer);
    const t = this.tokens();
    if (!t || !t.refreshToken) return;
    const wait = Math.max(0, t.expiresAt - margin(t) - Date.now());
    this.timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  // refresh gets a new access token with the refresh token; concurrent
  // callers share one request.
  refresh() {
    if (!this.refreshing) {
      this.refreshing = this.refreshNow().finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  async refreshNow() {
    const t = this.tokens();
    if (!t || !t.refreshToken) return;
    try {
      const got = await tokenRequest(t.tokenEndpoint, { grant_type: "refresh_token", refresh_token: t.refreshToken, client_id: t.clientId });
      this.store(got, t);
    } catch (err) {
      if (err.grant) {
        this.forget();
        this.onChange("Your sign-in has ended. Sign in again.");
      } else {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refresh().catch(() => {}), 5000);
      }
      throw err;
    }
  }

  // accessToken returns a token the API accepts for a while yet, refreshing
  // it first when it is about to expire; "" when nobody is signed in.
  async accessToken() {
    const t = this.tokens();
    if (!t) return "";
    if (t.refreshToken && Date.now() >= t.expiresAt - margin(t)) {
      try {
        await this.refresh();
      } catch (err) {
        if (Date.now() >= t.expiresAt) throw err;
        return t.accessToken; // still valid: try the refresh again later
      }
    }
    const fresh = this.tokens();
    return fresh ? fresh.accessToken : "";
  }

  // signOut forgets the tokens, revokes the refresh token where the issuer
  // can, and ends the issuer's own session (Cognito's logout endpoint, or
  // OpenID's end_session_endpoint) when it has one.
  async signOut() {
    const t = this.tokens();
    this.forget();
    this.onChange();
    if (!t) return;
    let ep;
    try { ep = await this.endpoints(); } catch { return; }
    if (ep.revoke && t.refreshToken) {
      fetch(ep.revoke, { method: "POST", body: new URLSearchParams({ token: t.refreshToken, client_id: t.clientId }), keepalive: true }).catch(() => {});
    }
    const back = location.origin + location.pathname;
    if (ep.logout) {
      location.assign(ep.logout + "?" + new URLSearchParams({ client_id: t.clientId, logout_uri: back }).toString());
    } else if (ep.endSession) {
      const q = new URLSearchParams({ client_id: t.clientId, post_logout_redirect_uri: back });
      if (t.idToken) q.set("id_token_hint", t.idToken);
      location.assign(ep.endSession + "?" + q.toString());
    }
  }
}
