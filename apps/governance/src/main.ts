import 'reflect-metadata';
import { governanceService, runAdminKeyCommand } from '@trellis/governance';
import { runUntilSignalled } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';

// `main.js admin-key` issues a new admin API key in governance's database instead of serving.
if (process.argv[2] === 'admin-key') runAdminKeyCommand();
else runUntilSignalled({ mode: 'distributed', services: [governanceService], plugins: [kmsLocal] });
