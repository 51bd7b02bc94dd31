import { credentialsOf } from './credentials';

describe('credentialsOf', () => {
  const apiKey = `trellis_0123456789abcdef_${'x'.repeat(43)}`;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('reads an API key or a token from Bearer', () => {
    expect(credentialsOf(`Bearer ${apiKey}`)).toEqual({ kind: 'apiKey', apiKey });
    expect(credentialsOf('bearer eyJhbGciOiJFZERTQSJ9.e30.sig')).toEqual({ kind: 'token', token: 'eyJhbGciOiJFZERTQSJ9.e30.sig' });
  });

  it('reads the API key from the password of Basic, as the MLflow client sends it', () => {
    expect(credentialsOf(basic('alice', apiKey))).toEqual({ kind: 'apiKey', apiKey });
    expect(credentialsOf(basic('', apiKey))).toEqual({ kind: 'apiKey', apiKey });
  });

  it('takes a key whose base64url secret holds _ and - as an API key, not a token', () => {
    const underscored = `trellis_0123456789abcdef_${'_-'.repeat(21)}_`;
    expect(credentialsOf(`Bearer ${underscored}`)).toEqual({ kind: 'apiKey', apiKey: underscored });
  });

  it('is nothing without a header', () => {
    expect(credentialsOf(undefined)).toEqual({ kind: 'none' });
    expect(credentialsOf('')).toEqual({ kind: 'none' });
  });

  it('refuses a header it cannot read, saying what it expects', () => {
    expect(() => credentialsOf('Digest abc')).toThrow('malformed authorization header: expected `Bearer <API key or token>`');
    expect(() => credentialsOf('Bearer')).toThrow('malformed authorization header');
    expect(() => credentialsOf(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toThrow('malformed Basic credentials');
    expect(() => credentialsOf(basic('alice', ''))).toThrow('malformed Basic credentials');
  });
});
