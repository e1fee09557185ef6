package graph

import (
	"context"

	"github.com/absender/absender/graph/model"
)

func (r *Resolver) readTenant(ctx context.Context, id string) (*model.Tenant, error) {
	if behind(ctx) {
		return r.tenantFromEvents(ctx, id)
	}
	t, err := r.deps.Reader.Tenant(ctx, id)
	if err != nil {
		return nil, notFound(err, "tenant")
	}
	return tenantModel(t), nil
}
