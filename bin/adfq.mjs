#!/usr/bin/env node
// `npx adfq <command>`: the command-line interface, on the same engine as the studio.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('../tools/raw-hooks.mjs', import.meta.url);
await import('../src/cli/main.ts');
