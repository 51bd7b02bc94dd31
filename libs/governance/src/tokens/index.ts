import { CreateTokenTables1767200000000 } from './create-token-tables.migration';
import { ApiKeyEntity, SigningKeyEntity } from './tokens.entities';

export const TOKEN_ENTITIES = [ApiKeyEntity, SigningKeyEntity];
export const TOKEN_MIGRATIONS = [CreateTokenTables1767200000000];
