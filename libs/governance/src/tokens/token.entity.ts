import { epochMillis } from '@trellis/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An API key: only the SHA-256 of its secret part is kept. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn('varchar', { length: 16 }) id!: string;
  @Column('varchar', { name: 'principal_id', length: 36 }) principalId!: string;
  @Column('varchar', { length: 200 }) name!: string;
  /** Projects the key is limited to; empty means all of the principal's. */
  @Column('simple-json', { name: 'project_ids' }) projectIds!: string[];
  @Column('varchar', { name: 'secret_sha256', length: 64 }) secretSha256!: string;
  @Column('bigint', { name: 'created_at', transformer: epochMillis }) createdAt!: number;
  @Column('bigint', { name: 'expires_at', nullable: true, transformer: epochMillis }) expiresAt!: number | null;
  @Column('bigint', { name: 'revoked_at', nullable: true, transformer: epochMillis }) revokedAt!: number | null;
  @Column('bigint', { name: 'last_used_at', nullable: true, transformer: epochMillis }) lastUsedAt!: number | null;
}

/** A token signing key pair (Ed25519). The newest unretired key signs; retired keys still verify for a while. */
@Entity('signing_keys')
export class SigningKeyEntity {
  @PrimaryColumn('varchar', { length: 36 }) kid!: string;
  /** The public key as a JSON Web Key. */
  @Column('text', { name: 'public_jwk' }) publicJwk!: string;
  /** The private key, PKCS#8 PEM, only while it is not wrapped (written before keys were wrapped, or with no KMS). */
  @Column('text', { name: 'private_pem', nullable: true }) privatePem!: string | null;
  /** The private key (PKCS#8 DER) wrapped by governance's signing-key KMS instance, base64. */
  @Column('text', { name: 'wrapped_private_key', nullable: true }) wrappedPrivateKey!: string | null;
  @Column('bigint', { name: 'created_at', transformer: epochMillis }) createdAt!: number;
  /** When it stopped signing; tokens it signed stay valid until they expire. */
  @Column('bigint', { name: 'retired_at', nullable: true, transformer: epochMillis }) retiredAt!: number | null;
}
