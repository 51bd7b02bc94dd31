import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnavailableError } from '../errors';
import { remoteKeySet } from './remote-key-set';

/** A key pair with its public JWK under key id `kid`. */
async function signingKey(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  const sign = () => new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid }).setSubject('u1').setExpirationTime('5m').sign(privateKey);
  return { jwk, sign };
}

/**
 * The key set a service verifies tokens with, fetched from governance: what it does when
 * governance restarts or is out of reach (a staged rollout upgrades it while the others run).
 */
describe('remoteKeySet', () => {
  let server: Server;
  let url: string;
  let published: JWK[];
  let fetches: number;
  let clock: number;
  const now = () => clock;

  beforeEach(async () => {
    published = [];
    fetches = 0;
    clock = 1_000_000;
    server = createServer((_request, response) => {
      fetches++;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: published }));
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterEach(() => server.close());

  const down = async () => {
    server.close();
    server.closeAllConnections();
    await once(server, 'close');
  };

  it('fetches the set once and verifies with it until it is stale', async () => {
    const key = await signingKey('k1');
    published = [key.jwk];
    const keys = remoteKeySet(url, { maxAgeMs: 60_000, now });
    await jwtVerify(await key.sign(), keys);
    await jwtVerify(await key.sign(), keys);
    expect(fetches).toBe(1);
    clock += 60_001;
    await jwtVerify(await key.sign(), keys);
    expect(fetches).toBe(2);
  });

  it('fetches again for a key id it lacks (a rotation), at most once per cooldown', async () => {
    const [first, second] = [await signingKey('k1'), await signingKey('k2')];
    published = [first.jwk];
    const keys = remoteKeySet(url, { cooldownMs: 1000, now });
    await jwtVerify(await first.sign(), keys);
    published = [first.jwk, second.jwk];
    await expect(jwtVerify(await second.sign(), keys)).rejects.toThrow('no applicable key found');
    expect(fetches).toBe(1);
    clock += 1000;
    await expect(jwtVerify(await second.sign(), keys)).resolves.toMatchObject({ payload: { sub: 'u1' } });
    expect(fetches).toBe(2);
  });

  it('keeps verifying with the keys it has while governance is out of reach, even once the set is stale', async () => {
    const key = await signingKey('k1');
    published = [key.jwk];
    const keys = remoteKeySet(url, { maxAgeMs: 60_000, now });
    await jwtVerify(await key.sign(), keys);
    await down();
    clock += 10 * 60_000;
    await expect(jwtVerify(await key.sign(), keys)).resolves.toMatchObject({ payload: { sub: 'u1' } });
  });

  it('asks a publisher that fails for a stale set again at most once per cooldown', async () => {
    const key = await signingKey('k1');
    published = [key.jwk];
    const keys = remoteKeySet(url, { maxAgeMs: 60_000, cooldownMs: 1000, now });
    await jwtVerify(await key.sign(), keys);
    server.removeAllListeners('request');
    server.on('request', (_request, response) => {
      fetches++;
      response.writeHead(503).end();
    });
    clock += 60_001;
    await jwtVerify(await key.sign(), keys);
    await jwtVerify(await key.sign(), keys);
    expect(fetches).toBe(2);
    clock += 1000;
    await jwtVerify(await key.sign(), keys);
    expect(fetches).toBe(3);
  });

  it('answers UNAVAILABLE naming the URL, not a bad token, when it has no key for the token and cannot fetch', async () => {
    const key = await signingKey('k1');
    published = [key.jwk];
    const unknown = await signingKey('k9');
    const keys = remoteKeySet(url, { now });
    await jwtVerify(await key.sign(), keys);
    await down();
    clock += 1000;
    const failure = await jwtVerify(await unknown.sign(), keys).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as Error).message).toMatch(new RegExp(`^the token signing keys could not be fetched from ${url.replace(/\./g, '\\.')} \\(.+\\); retry once governance answers there$`));

    const first = remoteKeySet(url, { now });
    await expect(jwtVerify(await key.sign(), first)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('takes a publisher that answers an error status as unreachable', async () => {
    server.removeAllListeners('request');
    server.on('request', (_request, response) => response.writeHead(503).end());
    const key = await signingKey('k1');
    await expect(jwtVerify(await key.sign(), remoteKeySet(url, { now }))).rejects.toThrow(`could not be fetched from ${url} (it answered 503)`);
  });
});
