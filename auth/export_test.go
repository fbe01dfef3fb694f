package auth

// FailureKey exposes failureKey to the tests.
var FailureKey = failureKey
