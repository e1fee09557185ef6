package intruder

// Tests are exempt.
const inTest = `SELECT * FROM rm_things`
