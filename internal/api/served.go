package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// requireServed refuses a multisig the operator does not serve: the deployment starts no
// workflow, sends no transaction and pays nothing for it.
func (s *Server) requireServed(ctx context.Context, multisig solana.PublicKey, field string) error {
	served, err := s.store.IsServed(ctx, multisig.String())
	if err != nil {
		return err
	}
	if !served {
		return newError(http.StatusForbidden, CodeMultisigNotServed, field,
			"multisig %s is not served by this deployment; its operator adds it with `apiserver multisig serve %s` (or POST /multisigs)",
			multisig, multisig)
	}
	return nil
}

// governedMultisig reads a multisig the deployment serves; any other is refused before the
// chain is read.
func (s *Server) governedMultisig(ctx context.Context, multisig solana.PublicKey, field string) (*governor.Multisig, error) {
	if err := s.requireServed(ctx, multisig, field); err != nil {
		return nil, err
	}
	ms, err := s.chain.GetMultisig(ctx, multisig)
	if err != nil {
		return nil, chainReadError(err, field, "multisig %s", multisig)
	}
	return ms, nil
}

// ServedMultisigView is a multisig the deployment serves.
type ServedMultisigView struct {
	Address  string    `json:"address"`
	Label    string    `json:"label"`
	ServedAt time.Time `json:"served_at"`
	ServedBy string    `json:"served_by"`
}

func servedView(m store.ServedMultisig) ServedMultisigView {
	return ServedMultisigView{Address: m.Address, Label: m.Label, ServedAt: m.ServedAt, ServedBy: m.ServedBy}
}

// ServedMultisigsResponse answers GET /multisigs.
type ServedMultisigsResponse struct {
	Multisigs []ServedMultisigView `json:"multisigs"`
}

func (s *Server) listServed(c *gin.Context) {
	list, err := s.store.ListServed(c.Request.Context())
	if err != nil {
		respond(c, err)
		return
	}
	out := ServedMultisigsResponse{Multisigs: []ServedMultisigView{}}
	for _, m := range list {
		out.Multisigs = append(out.Multisigs, servedView(m))
	}
	c.JSON(http.StatusOK, out)
}

type serveMultisigBody struct {
	Address string `json:"address"`
	Label   string `json:"label"`
}

// ServeMultisigResponse answers POST /multisigs.
type ServeMultisigResponse struct {
	Multisig ServedMultisigView `json:"multisig"`
	// Created is false when the multisig was already served (the row is unchanged).
	Created bool `json:"created"`
}

// labelPattern is what an operator may call a served multisig.
var labelPattern = regexp.MustCompile(`^[A-Za-z0-9 ._-]{0,64}$`)

// serveMultisig adds a multisig to the served list. The multisig must exist on chain: serving
// a typo would only hide the real one.
func (s *Server) serveMultisig(c *gin.Context) {
	ctx := c.Request.Context()
	tok, err := s.authenticate(ctx, c, operatorRoles)
	if err != nil {
		respond(c, err)
		return
	}
	var body serveMultisigBody
	if err := bindJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	addr, err := pubkeyField("address", body.Address)
	if err != nil {
		respond(c, err)
		return
	}
	if !labelPattern.MatchString(body.Label) {
		respond(c, invalidField("label", "want at most 64 letters, digits, spaces, '.', '_' or '-'"))
		return
	}
	if _, err := s.chain.GetMultisig(ctx, addr); err != nil {
		respond(c, chainReadError(err, "address", "multisig %s", addr))
		return
	}
	m, created, err := s.store.ServeMultisig(ctx, store.ServedMultisig{Address: addr.String(), Label: body.Label},
		store.Origin{Actor: tok.Name, Source: store.SourceAPI})
	if err != nil {
		respond(c, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.JSON(status, ServeMultisigResponse{Multisig: servedView(m), Created: created})
}

// unserveMultisig removes a multisig from the served list: its running workflows stop spending
// at their next step and wait.
func (s *Server) unserveMultisig(c *gin.Context) {
	ctx := c.Request.Context()
	tok, err := s.authenticate(ctx, c, operatorRoles)
	if err != nil {
		respond(c, err)
		return
	}
	addr, err := pubkeyField("address", c.Param("address"))
	if err != nil {
		respond(c, err)
		return
	}
	err = s.store.UnserveMultisig(ctx, addr.String(), store.Origin{Actor: tok.Name, Source: store.SourceAPI})
	if errors.Is(err, store.ErrNotFound) {
		respond(c, newError(http.StatusNotFound, CodeNotFound, "address", "multisig %s is not served", addr))
		return
	}
	if err != nil {
		respond(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
