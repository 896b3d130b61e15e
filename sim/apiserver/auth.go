package apiserver

import (
	"context"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/group"
	unionauthn "k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
)

// AdminUser is the identity of the kubeconfig nodesim writes.
const AdminUser = "nodesim-admin"

// NodesGroup is the group every node identity (system:node:<name>) is in.
const NodesGroup = "system:nodes"

// newAuthenticator accepts client certificates signed by the run's CA (user
// from the common name, groups from the organizations) and the static bearer
// tokens given; everyone it accepts is also system:authenticated. A request
// with neither gets 401.
func newAuthenticator(clientCA dynamiccertificates.CAContentProvider, tokens map[string]*user.DefaultInfo) authenticator.Request {
	certs := x509request.NewDynamic(clientCA.VerifyOptions, x509request.CommonNameUserConversion)
	bearer := authenticatorfactory.NewFromTokens(tokens, nil)
	return group.NewAuthenticatedGroupAdder(unionauthn.New(certs, bearer))
}

// newAuthorizer lets system:masters do anything, then asks extra (the seam
// where node identities get their narrower rights, e.g. nodes/checkpoint).
// With no extra authorizer every authenticated user is allowed.
func newAuthorizer(extra authorizer.Authorizer) (authorizer.Authorizer, authorizer.RuleResolver) {
	if extra == nil {
		extra = authorizer.AuthorizerFunc(allowAuthenticated)
	}
	masters := authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)
	authz := authorizer.AuthorizerFunc(func(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		if decision, reason, err := masters.Authorize(ctx, a); decision == authorizer.DecisionAllow {
			return decision, reason, err
		}
		return extra.Authorize(ctx, a)
	})
	// Rules reviews are not served; the resolver only has to exist.
	return authz, authorizerfactory.NewAlwaysAllowAuthorizer()
}

// allowAuthenticated allows every request of an authenticated user.
func allowAuthenticated(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if u := a.GetUser(); u != nil {
		for _, g := range u.GetGroups() {
			if g == user.AllAuthenticated {
				return authorizer.DecisionAllow, "", nil
			}
		}
	}
	return authorizer.DecisionNoOpinion, "not authenticated", nil
}
