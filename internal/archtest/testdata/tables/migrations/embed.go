package migrations

// Migrations are exempt.
const up = `CREATE TABLE IF NOT EXISTS rm_things (id TEXT)`
