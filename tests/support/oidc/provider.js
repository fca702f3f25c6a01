// A real OpenID provider on loopback for the tests of klachtwacht/web/oidc.py.
//
// One Node process serves several tenants, each an instance of the certified `oidc-provider`
// mounted under `/<tid>/v2.0`, so every issuer is shaped like Entra ID's tenant-specific one
// (`https://login.microsoftonline.com/<tid>/v2.0`). Like Entra, all tenants sign with the same
// keys: a token of another tenant passes the signature check, only the issuer and `tid` checks
// can refuse it.
//
// Usage: node provider.js CONFIG.json. The file (written by tests/support/oidc_provider.py) holds
//   {"port": 8123, "host": "localhost", "jwks": {"keys": [<private JWK>]},
//    "tenants": [{"tid": "...", "clients": [<client metadata>],
//                 "accounts": [{"login": "...", "password": "...", "sub": "...", "claims": {...}}]}]}
// When every tenant listens, the process prints one line `ready <port>` on standard output.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// the host in the issuer: `localhost` makes the provider another site than an app on 127.0.0.1, as Entra is
const origin = `http://${config.host || '127.0.0.1'}:${config.port}`;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, prefix, problem) {
  const warning = problem ? `<p role="alert">${escapeHtml(problem)}</p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>${warning}
<form method="post" action="${prefix}/interaction/${escapeHtml(uid)}">
<label>Login <input name="login" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function makeTenant(tenant) {
  const prefix = `/${tenant.tid}/v2.0`;
  const accounts = new Map(tenant.accounts.map((account) => [account.sub, account]));
  const provider = new Provider(`${origin}${prefix}`, {
    clients: tenant.clients,
    jwks: config.jwks,
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // the user's claims in the ID token itself, as Entra ID puts them there
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub', 'tid', 'oid'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    ttl: {
      AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600,
    },
    async findAccount(ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, async claims() { return { sub, ...account.claims }; } };
    },
  });

  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      // the organisation consented for its users (admin consent): grant what is asked
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(details.uid, prefix));
      return;
    }
    const form = await readForm(req);
    const account = tenant.accounts.find((a) => a.login === form.get('login') && a.password === form.get('password'));
    if (!account) {
      res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(details.uid, prefix, 'Wrong login or password.'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }

  return { prefix, provider, callback: provider.callback(), interaction };
}

const tenants = config.tenants.map(makeTenant);

const server = http.createServer((req, res) => {
  const tenant = tenants.find((t) => req.url === t.prefix || req.url.startsWith(`${t.prefix}/`));
  if (!tenant) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such tenant');
    return;
  }
  // mounted under the tenant's path, as oidc-provider expects when it is mounted (docs: "Mounting")
  req.originalUrl = req.url;
  req.url = req.url.slice(tenant.prefix.length) || '/';
  if (req.url.startsWith('/interaction/')) {
    tenant.interaction(req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${error.message}`);
    });
    return;
  }
  tenant.callback(req, res);
});

server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${config.port}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
