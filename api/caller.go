package api

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// callerIDEncoding spells caller IDs in lowercase letters and digits.
var callerIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// The keys of the context a token authorizer passes to the function: the
// verified token's issuer and subject, and the caller ID made of them.
// (A Cognito user pool authorizer passes its claims instead, with the same
// iss and sub.)
const (
	ContextIssuer   = "iss"
	ContextSubject  = "sub"
	ContextCallerID = "callerId"
)

// CallerIDLength is the length of a caller ID: 130 bits of SHA-256.
const CallerIDLength = 26

// CallerID maps a verified caller (its token's issuer and subject) onto the
// key segment that holds its files: the first 26 base32 characters
// ([a-z2-7]) of SHA-256(issuer + "\n" + subject). It is deterministic,
// safe in any key whatever the subject holds ("auth0|abc", unicode, 300
// characters), and collision-resistant; issuer and subject are both part of
// it, so one subject at two issuers is two callers.
func CallerID(issuer, subject string) string {
	sum := sha256.Sum256([]byte(issuer + "\n" + subject))
	return callerIDEncoding.EncodeToString(sum[:])[:CallerIDLength]
}

// IsCallerID reports whether s has the shape CallerID gives.
func IsCallerID(s string) bool {
	if len(s) != CallerIDLength {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz234567") == ""
}
