// Command authorizer is the OIDC token authorizer's bootstrap. It only
// wires: the issuer and audience are read once, and the Verifier, which
// keeps the issuer's keys between invocations, lives as long as the
// process. Every log line carries the request ID.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	v, err := oidcauth.NewVerifier(oidcauth.Config{
		Issuer:   os.Getenv(oidcauth.IssuerEnv),
		Audience: os.Getenv(oidcauth.AudienceEnv),
		JWKSURL:  os.Getenv(oidcauth.JWKSURLEnv),
	})
	if err != nil {
		slog.Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(v.Authorize)
}
