// Copies the non-TypeScript files the compiled code reads at run time (SQL migrations, the seed catalog, the C launcher's source) into dist/.
import { cpSync } from 'node:fs';
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
cpSync('src/catalog/seed', 'dist/catalog/seed', { recursive: true });
cpSync('src/agent/connectors/launcher.c', 'dist/agent/connectors/launcher.c');
