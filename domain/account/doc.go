// Package account is the hosted account of R27–R29: local@domain on a
// mail domain of the tenant, its password (rules and argon2id hash, only
// the hash ever enters an event), forwarding and auto-replies.
package account
