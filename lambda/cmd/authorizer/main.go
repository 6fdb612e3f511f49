// Command authorizer is the OIDC token authorizer's bootstrap. It only
// wires: the settings are read once, and the Authorizer, which keeps the
// issuer's keys between invocations, lives as long as the process. Every log
// line carries the request ID. The checks live in package oidcauth.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/oidcauth"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	settings, err := api.LoadSettings[api.AuthorizerSettings](os.Getenv)
	if err != nil {
		slog.Error("invalid settings", "error", err)
		os.Exit(1)
	}
	a, err := oidcauth.New(settings)
	if err != nil {
		slog.Error("invalid settings", "error", err)
		os.Exit(1)
	}
	lambda.Start(a.Authorize)
}
