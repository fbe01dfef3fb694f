package jobs

import (
	"context"

	"github.com/flexd/flexd"
)

// settleCluster ends CREATING (provisioning) or UPDATING (a PATCH): the
// cluster is IDLE, and the oldest restore waiting for it is woken.
func (e *Engine) settleCluster(ctx context.Context, tx flexd.Tx, t flexd.Timer) error {
	c, err := tx.GetFlexClusterByID(ctx, t.EntityID)
	if notFound(err) {
		return disarm(ctx, tx, t)
	}
	if err != nil {
		return err
	}
	now := e.clock.Now()
	switch c.StateName {
	case flexd.ClusterCreating:
		if ready := c.CreateDate.Add(e.cfg.ProvisionTime); now.Before(ready) {
			return tx.SetTimer(ctx, flexd.Timer{Kind: flexd.TimerCluster, EntityID: c.ID, DueAt: ready})
		}
	case flexd.ClusterUpdating:
		// A restore running into the cluster keeps it UPDATING; its end
		// makes it IDLE.
		if running, err := runningInto(ctx, tx, c); err != nil || running {
			if err != nil {
				return err
			}
			return disarm(ctx, tx, t)
		}
	case flexd.ClusterDeleting:
		return e.deleteStep(ctx, tx, t) // a timer armed by an older flexd
	default:
		return disarm(ctx, tx, t)
	}
	// The endpoint serves from IDLE on, not while CREATING.
	change, err := e.cfg.Artifacts.Serve(ctx, c)
	if err != nil {
		return err
	}
	from := c.StateName
	c.StateName = flexd.ClusterIdle
	if change != nil {
		change(c)
	}
	if err := tx.UpdateFlexCluster(ctx, c, from); err != nil {
		return err
	}
	if err := e.wakeRestoresInto(ctx, tx, c); err != nil {
		return err
	}
	return disarm(ctx, tx, t)
}

// runningInto tells whether a restore into c is RUNNING.
func runningInto(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) (bool, error) {
	js, err := tx.RestoresInto(ctx, c.GroupID, c.Name)
	if err != nil {
		return false, err
	}
	for _, j := range js {
		if j.Status == flexd.StatusRunning {
			return true, nil
		}
	}
	return false, nil
}

// wakeRestoresInto arms the step of the oldest unfinished restore into c
// when c is IDLE and no restore runs into it: that step starts it. Restores
// wait QUEUED, without a timer, while their target is busy; whatever makes
// the target free again calls this in the same unit of work.
func (e *Engine) wakeRestoresInto(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error {
	if c.StateName != flexd.ClusterIdle {
		return nil
	}
	js, err := tx.RestoresInto(ctx, c.GroupID, c.Name)
	if err != nil || len(js) == 0 {
		return err
	}
	for _, j := range js {
		if j.Status == flexd.StatusRunning {
			return nil
		}
	}
	return e.arm(ctx, tx, flexd.TimerRestore, js[0].ID, e.clock.Now())
}
