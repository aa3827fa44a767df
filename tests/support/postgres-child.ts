// A test process that starts PostgreSQL and is then killed before it can stop it (tests/integration/hub-test-postgres.test.ts).
import { startPostgres } from './postgres';

const server = await startPostgres();
console.log(`ready ${server.port} ${server.dataDir}`);
setInterval(() => {}, 60_000); // stays until killed
