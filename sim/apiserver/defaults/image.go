package defaults

import (
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// pullPolicyFor is the image pull policy kube-apiserver defaults for image:
// Always when the image's tag is "latest" (an image with neither tag nor
// digest counts as "latest"), IfNotPresent otherwise, including for an image
// reference that does not parse.
func pullPolicyFor(image string) corev1.PullPolicy {
	if tag, ok := imageTag(image); ok && tag == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// The grammar of image references, as kubelet and kube-apiserver accept them
// (github.com/distribution/reference v0.6.0, which Kubernetes v1.37 pins;
// nodesim does not depend on it, so the grammar is restated here).
const (
	refAlphaNumeric = `[a-z0-9]+`
	refSeparator    = `(?:[._]|__|[-]+)`
	refPathPart     = refAlphaNumeric + `(?:` + refSeparator + refAlphaNumeric + `)*`
	refRemoteName   = refPathPart + `(?:/` + refPathPart + `)*`
	refDomainLabel  = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refHost         = `(?:` + refDomainLabel + `(?:\.` + refDomainLabel + `)*` + `|\[(?:[a-fA-F0-9:]+)\])`
	refDomain       = refHost + `(?::[0-9]+)?`
	refName         = `(?:` + refDomain + `/)?` + refRemoteName
	refTag          = `[\w][\w.-]{0,127}`
	refDigest       = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`

	// refPathMax bounds the length of a repository path (the name without
	// its registry).
	refPathMax = 255
	// refDefaultDomain and refOfficialPrefix qualify Docker Hub short names:
	// "nginx" is "docker.io/library/nginx".
	refDefaultDomain  = "docker.io"
	refLegacyDomain   = "index.docker.io"
	refOfficialPrefix = "library/"
)

var (
	referenceRE   = regexp.MustCompile(`^(` + refName + `)(?::(` + refTag + `))?(?:@(` + refDigest + `))?$`)
	nameRE        = regexp.MustCompile(`^(?:(` + refDomain + `)/)?(` + refRemoteName + `)$`)
	hexIdentityRE = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// digestHexLen is the encoded length of each digest algorithm
	// kube-apiserver can verify; digests of other algorithms do not parse.
	digestHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
	lowerHexRE   = regexp.MustCompile(`^[a-f0-9]+$`)
)

// imageTag returns the tag of an image reference the way kube-apiserver's
// defaulting reads it: "latest" when the reference has neither tag nor
// digest, "" when it has only a digest. ok is false when the reference does
// not parse.
func imageTag(image string) (tag string, ok bool) {
	// A bare 64-hex string is an image ID, not a name.
	if hexIdentityRE.MatchString(image) {
		return "", false
	}
	domain, remainder := splitImageDomain(image)
	repo := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		repo = remainder[:i]
	}
	if strings.ToLower(repo) != repo {
		return "", false
	}
	m := referenceRE.FindStringSubmatch(domain + "/" + remainder)
	if m == nil {
		return "", false
	}
	path := m[1]
	if n := nameRE.FindStringSubmatch(m[1]); n != nil {
		path = n[2]
	}
	if len(path) > refPathMax {
		return "", false
	}
	tag, digest := m[2], m[3]
	if digest != "" && !validDigest(digest) {
		return "", false
	}
	if tag == "" && digest == "" {
		tag = "latest"
	}
	return tag, true
}

// splitImageDomain splits a reference into its registry and the rest,
// qualifying Docker Hub names: the first path element is a registry only if
// it is "localhost", contains '.' or ':', or has upper-case letters.
func splitImageDomain(image string) (domain, remainder string) {
	first, rest, found := strings.Cut(image, "/")
	if found && (first == "localhost" || strings.ContainsAny(first, ".:") || strings.ToLower(first) != first) {
		domain, remainder = first, rest
	} else {
		domain, remainder = refDefaultDomain, image
	}
	if domain == refLegacyDomain {
		domain = refDefaultDomain
	}
	if domain == refDefaultDomain && !strings.Contains(remainder, "/") {
		remainder = refOfficialPrefix + remainder
	}
	return domain, remainder
}

// validDigest reports whether "algorithm:hex" names a supported algorithm
// with a lower-case hex value of the right length.
func validDigest(d string) bool {
	alg, hex, _ := strings.Cut(d, ":")
	n, known := digestHexLen[alg]
	return known && len(hex) == n && lowerHexRE.MatchString(hex)
}
