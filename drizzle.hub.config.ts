import { defineConfig } from 'drizzle-kit';

/** The site hub's PostgreSQL schema (the station's SQLite one is drizzle.config.ts). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/hub/schema.ts',
  out: './src/hub/migrations',
});
