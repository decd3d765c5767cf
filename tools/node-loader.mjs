// Lets Node run the engine's TypeScript directly: tsx for .ts, and Vite's `?raw` suffix for .wgsl files.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./raw-hooks.mjs', import.meta.url);
