import 'reflect-metadata';
import { governanceService, runAdminKeyCommand, runServiceKeyCommand } from '@trellis/governance';
import { runUntilSignalled } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';

// `main.js admin-key` issues a new admin API key in governance's database instead of serving;
// `main.js service-key <service> [--write <file>]`, a key of a service's own account.
if (process.argv[2] === 'admin-key') runAdminKeyCommand();
else if (process.argv[2] === 'service-key') runServiceKeyCommand(process.argv.slice(3));
else runUntilSignalled({ mode: 'distributed', services: [governanceService], plugins: [kmsLocal] });
