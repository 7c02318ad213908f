// A real OpenID Connect provider for the tests: node's certified `oidc-provider` (8.x, the
// line that runs on Debian's Node 18), on loopback, with the clients and users the test
// set-up gives it. Nothing here is used by the site itself.
//
//   OIDC_PORT         the port to listen on (127.0.0.1)
//   OIDC_CLIENTS      JSON: [{client_id, client_secret, redirect_uris}]
//   OIDC_USERS_FILE   a JSON file {"<subject>": {email, email_verified, groups, ...}},
//                     read at every sign-in, so a test can change someone's claims
//   OIDC_ID_TOKEN_TTL seconds an ID token is valid (negative: already expired)
//   OIDC_TAMPER       "signature": every ID token leaves with its signature altered
import fs from "node:fs";
import http from "node:http";

import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const usersFile = process.env.OIDC_USERS_FILE;
const clients = JSON.parse(process.env.OIDC_CLIENTS || "[]").map((client) => ({
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
  ...client,
}));
const idTokenTtl = Number(process.env.OIDC_ID_TOKEN_TTL || 3600);

function users() {
  return JSON.parse(fs.readFileSync(usersFile, "utf8"));
}

const provider = new Provider(issuer, {
  clients,
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    groups: ["groups", "roles"],
  },
  // The claims a scope grants go into the ID token too, not only to userinfo: the site
  // reads `groups` from the ID token.
  conformIdTokenClaims: false,
  pkce: { methods: ["S256"], required: () => true },
  // A number must be positive; a function's value is used as it is (an expired token).
  ttl: { IdToken: idTokenTtl > 0 ? idTokenTtl : function IdTokenTTL() { return idTokenTtl; } },
  cookies: { keys: ["chatsite-tests-only-cookie-key"] },
  // The name typed in the dev login form is the subject.
  async findAccount(_ctx, sub) {
    const table = users();
    if (!Object.hasOwn(table, sub)) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...table[sub] }) };
  },
});

if (process.env.OIDC_TAMPER === "signature") {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === "token" && ctx.body?.id_token) {
      const [header, payload, signature] = ctx.body.id_token.split(".");
      const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
      ctx.body = { ...ctx.body, id_token: `${header}.${payload}.${flipped}` };
    }
  });
}

http.createServer(provider.callback()).listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
