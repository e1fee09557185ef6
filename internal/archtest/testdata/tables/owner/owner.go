package owner

// The owner names its table and the event log freely.
const q = `SELECT id FROM rm_things WHERE x = ?`

const log = `INSERT INTO events (id) VALUES (?)`
