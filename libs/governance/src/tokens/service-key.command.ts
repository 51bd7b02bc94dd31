import { ConfigError, loadConfig, readableFailure, type TrellisConfig } from '@trellis/platform';
import { resolve } from 'node:path';
import { governanceService } from '../governance.definition';
import { withGovernanceDatabase } from './operator-database';
import { type IssuedKey, operatorActor } from './operator-keys';
import { issueServiceKey, writeKeyFile } from './service-key';

const SERVICE = /^[a-z][a-z0-9]{0,29}$/;

/**
 * Issues an API key to the service account of platform service `service` (made now if it has
 * none), writing straight into governance's database as `config` names it, for an operator who
 * runs that service in its own process (`services.<service>.credential`). Audited as the
 * operator's (`operator:<user>@<host>`); earlier keys keep working until revoked.
 */
export async function issueServiceKeyAsOperator(config: TrellisConfig, service: string): Promise<IssuedKey> {
  if (!SERVICE.test(service)) throw new ConfigError(`"${service.slice(0, 40)}" is not a service name: lowercase letters and digits, such as registry`);
  return withGovernanceDatabase(config, (repositories) => repositories.tokens.transaction((tx) => issueServiceKey(repositories, tx, service, operatorActor())));
}

/**
 * `npm run service-key -- <service> [--write <file>]` and `node apps/governance/dist/main.js
 * service-key <service> [--write <file>]`: issues a key to the service's own account from the
 * process's configuration and prints it once, or writes it to `<file>` (readable by its owner
 * only) and prints where; exits non-zero with a readable message when it cannot.
 */
export function runServiceKeyCommand(args: readonly string[]): void {
  const [service = '', flag, file] = args;
  const failed = (message: string) => {
    process.stderr.write(`Trellis could not issue a service key: ${message}\n`);
    process.exit(1);
  };
  if (!service || (flag !== undefined && (flag !== '--write' || !file))) return failed('usage: service-key <service> [--write <file>], e.g. service-key registry');
  const variable = `TRELLIS_${service.toUpperCase()}_CREDENTIAL`;
  issueServiceKeyAsOperator(loadConfig({ services: [governanceService.name] }), service)
    .then(async ({ principalId, secret }) => {
      if (file) {
        await writeKeyFile(resolve(file), secret);
        process.stdout.write(`Trellis: issued a new API key to the ${service} service's account (${principalId}) and wrote it to ${resolve(file)}.\nGive it to the service: ${variable}=file:${resolve(file)}\n`);
      } else {
        process.stdout.write(
          `Trellis: issued a new API key to the ${service} service's account (${principalId}). It is shown this once; store it as a secret the service reads:\n\n    ${secret}\n\n` +
            `then set ${variable}=env:<VARIABLE holding it> or file:/path/of/a/file/holding/it.\nEarlier keys still work until they are revoked (TokenService/RevokeApiKey).\n`,
        );
      }
      process.exit(0);
    })
    .catch((error: unknown) => failed(readableFailure(error)));
}
