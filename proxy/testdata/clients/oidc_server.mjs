// An independent OpenID Provider for the identity tests: oauth2-mock-server
// (npm), with one RS256 key. POST /token with grant_type=client_credentials
// issues an access token; the extra form fields shape its claims:
// sub, aud, groups (comma-separated), act (an agent id), exp_in and nbf_in
// (seconds from now, may be negative). Prints "ISSUER <url>" when ready.
// ESM ignores NODE_PATH: import the package from the folder the tests name.
const { OAuth2Server } = await import(process.env.NODE_PATH + '/oauth2-mock-server/dist/index.mjs');

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.service.on('beforeTokenSigning', (token, req) => {
  const b = req.body || {};
  const now = Math.floor(Date.now() / 1000);
  token.payload.sub = b.sub || 'mock-user';
  token.payload.aud = b.aud || 'snowgate';
  token.payload.email = (b.sub || 'mock-user') + '@mock.example';
  token.payload.groups = (b.groups || 'analysts').split(',');
  if (b.act) token.payload.act = { sub: b.act };
  if (b.exp_in) token.payload.exp = now + Number(b.exp_in);
  if (b.nbf_in) token.payload.nbf = now + Number(b.nbf_in);
});
await server.start(0, '127.0.0.1');
console.log('ISSUER ' + server.issuer.url);
process.on('SIGTERM', async () => { await server.stop(); process.exit(0); });
