package apiserver

// AdminUser is the identity of the kubeconfig nodesim writes, in
// system:masters (kube-apiserver's --token-auth-file).
const AdminUser = "nodesim-admin"

// NodesGroup is the group every node identity (system:node:<name>) is in,
// and NodeUserPrefix the prefix of their names, which the Node authorizer
// and NodeRestriction recognise.
const (
	NodesGroup     = "system:nodes"
	NodeUserPrefix = "system:node:"
)

// The identities of kube-controller-manager's controllers (each its own
// service account with --use-service-account-credentials, as kubeadm runs
// it) and of kube-scheduler, whose bootstrap RBAC roles grant what each
// needs. The node lifecycle and the taint eviction controllers are both
// node-controller.
const (
	NodeControllerUser        = "system:serviceaccount:kube-system:node-controller"
	ReplicaSetControllerUser  = "system:serviceaccount:kube-system:replicaset-controller"
	SchedulerUser             = "system:kube-scheduler"
	ControllerManagerUser     = "system:kube-controller-manager"
	ServiceAccountsGroup      = "system:serviceaccounts"
	KubeSystemServiceAccounts = "system:serviceaccounts:kube-system"
)
