import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Runs before each test file; applyD1Migrations skips what the database already has.
await applyD1Migrations(env.CLOSE_JOBS_DB, env.TEST_MIGRATIONS);
