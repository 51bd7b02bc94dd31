import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, IsNull, MoreThan, Not, type EntityManager } from 'typeorm';
import { ApiKeyEntity, SigningKeyEntity } from './token.entity';

/** Reads and writes API keys and signing keys; the only code of governance that knows their tables. */
@Injectable()
export class TokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; pass its manager to the writes, the audit and the outbox. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Stores a new API key and returns it. */
  async insertApiKey(tx: EntityManager, apiKey: ApiKeyEntity): Promise<ApiKeyEntity> {
    const created = tx.create(ApiKeyEntity, apiKey);
    await tx.insert(ApiKeyEntity, created);
    return created;
  }

  /** The key with this id; read in `tx` when given. */
  findApiKey(apiKeyId: string, tx?: EntityManager): Promise<ApiKeyEntity | null> {
    return (tx ?? this.dataSource.manager).findOneBy(ApiKeyEntity, { id: apiKeyId });
  }

  /** At most `limit` of the principal's keys, oldest first (by id within a millisecond), from the one after `after`. */
  apiKeysOf(principalId: string, page: { after?: { createdAt: number; id: string }; limit: number }): Promise<ApiKeyEntity[]> {
    const { after } = page;
    const where = after ? [{ principalId, createdAt: MoreThan(after.createdAt) }, { principalId, createdAt: after.createdAt, id: MoreThan(after.id) }] : { principalId };
    return this.dataSource.getRepository(ApiKeyEntity).find({ where, order: { createdAt: 'ASC', id: 'ASC' }, take: page.limit });
  }

  countApiKeysOf(tx: EntityManager, principalId: string): Promise<number> {
    return tx.countBy(ApiKeyEntity, { principalId });
  }

  /** Marks the key revoked at `revokedAt` unless it already was. */
  async revokeApiKey(tx: EntityManager, apiKeyId: string, revokedAt: number): Promise<void> {
    await tx.update(ApiKeyEntity, { id: apiKeyId, revokedAt: IsNull() }, { revokedAt });
  }

  async markApiKeyUsed(tx: EntityManager, apiKeyId: string, usedAt: number): Promise<void> {
    await tx.update(ApiKeyEntity, { id: apiKeyId }, { lastUsedAt: usedAt });
  }

  /** The keys revoked after `since`: who they belonged to and when. */
  apiKeysRevokedAfter(since: number): Promise<Array<Pick<ApiKeyEntity, 'id' | 'principalId' | 'revokedAt'>>> {
    return this.dataSource.getRepository(ApiKeyEntity).find({
      where: { revokedAt: MoreThan(since) },
      select: { id: true, principalId: true, revokedAt: true },
    });
  }

  /** Whether a signing key is in use (not retired). */
  hasActiveSigningKey(tx: EntityManager): Promise<boolean> {
    return tx.existsBy(SigningKeyEntity, { retiredAt: IsNull() });
  }

  async insertSigningKey(tx: EntityManager, key: SigningKeyEntity): Promise<void> {
    await tx.insert(SigningKeyEntity, key);
  }

  /** Retires every signing key in use at `retiredAt`. */
  async retireSigningKeys(tx: EntityManager, retiredAt: number): Promise<void> {
    await tx.update(SigningKeyEntity, { retiredAt: IsNull() }, { retiredAt });
  }

  /** The signing keys whose private key is still in the clear (written before keys were wrapped). */
  signingKeysInTheClear(tx: EntityManager): Promise<SigningKeyEntity[]> {
    return tx.findBy(SigningKeyEntity, { privatePem: Not(IsNull()) });
  }

  /** Replaces a signing key's private key in the clear with its wrapped form. */
  async setWrappedSigningKey(tx: EntityManager, kid: string, wrappedPrivateKey: string): Promise<void> {
    // SQLite would otherwise leave the PEM's bytes in the page's free space, in the file.
    if (Dialect.of(tx).name === 'sqlite') await tx.query('PRAGMA secure_delete = ON');
    await tx.update(SigningKeyEntity, { kid }, { wrappedPrivateKey, privatePem: null });
  }

  /** The newest signing key in use, if any. */
  activeSigningKey(): Promise<SigningKeyEntity | null> {
    return this.dataSource.getRepository(SigningKeyEntity).findOne({ where: { retiredAt: IsNull() }, order: { createdAt: 'DESC' } });
  }

  /** The signing keys in use or retired after `retiredAfter`, newest first. */
  signingKeysRetiredAfter(retiredAfter: number): Promise<SigningKeyEntity[]> {
    return this.dataSource.getRepository(SigningKeyEntity).find({
      where: [{ retiredAt: IsNull() }, { retiredAt: MoreThan(retiredAfter) }],
      order: { createdAt: 'DESC' },
    });
  }
}
