package graph

import (
	"context"

	"github.com/absender/absender/authz"
	"github.com/absender/absender/graph/model"
)

func (r *Resolver) systemMailServer(ctx context.Context) (*model.SystemMailServer, error) {
	if behind(ctx) {
		return r.systemMailServerFromEvents(ctx)
	}
	sys, err := r.deps.Reader.System(ctx)
	if err != nil {
		return nil, err
	}
	out := &model.SystemMailServer{Configured: sys.Configured, Enabled: sys.Enabled, Support: &model.SupportSettings{
		Address: sys.SupportAddress, AllowTenantAddress: sys.AllowTenantAddress, AttachSystemInfo: sys.AttachSystemInfo}}
	if authz.CanSeeDetails(PrincipalFrom(ctx), "") {
		if out.Settings, err = settingsModel(sys.Settings); err != nil {
			return nil, err
		}
	}
	return out, nil
}
