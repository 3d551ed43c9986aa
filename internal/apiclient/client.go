// Package apiclient is a typed HTTP client of the upgrade-governor API (openapi.yaml): it
// posts member-signed transactions and reads the proposal index, workflows and migrations.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one API server. It is safe for concurrent use.
type Client struct {
	base *url.URL
	http *http.Client
}

// DefaultTimeout bounds one request. A governance request may wait for its transaction to
// confirm through the workflow (the server allows 2 minutes), so it is generous.
const DefaultTimeout = 3 * time.Minute

// New returns a client of the API at baseURL (http or https, e.g. http://127.0.0.1:8080).
// httpClient nil means one with DefaultTimeout.
func New(baseURL string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("api url %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("api url %q: want http://host[:port] or https://host[:port]", baseURL)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: u, http: httpClient}, nil
}

// MigrationID is the job ID of an executed proposal's migration (`migration-<proposal>`,
// as the API documents GET /migration/{id}).
func MigrationID(proposal string) string { return "migration-" + proposal }

// CreateProposal starts the upgrade workflow of a member-signed propose transaction.
func (c *Client) CreateProposal(ctx context.Context, req CreateProposalRequest) (*CreateProposalResponse, error) {
	var out CreateProposalResponse
	return &out, c.do(ctx, http.MethodPost, "/proposals", nil, req, &out)
}

// ListFilter selects proposals of GET /proposals; zero fields do not filter.
type ListFilter struct {
	Multisig, Program, Status string
	Limit, Offset             int
}

// ListProposals returns one page of the index, newest first.
func (c *Client) ListProposals(ctx context.Context, f ListFilter) (*ProposalList, error) {
	q := url.Values{}
	for k, v := range map[string]string{"multisig": f.Multisig, "program": f.Program, "status": f.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	var out ProposalList
	return &out, c.do(ctx, http.MethodGet, "/proposals", q, nil, &out)
}

// GetProposal returns a proposal with its approvals and its workflow's live state.
func (c *Client) GetProposal(ctx context.Context, proposal string) (*ProposalDetail, error) {
	var out ProposalDetail
	return &out, c.do(ctx, http.MethodGet, "/proposals/"+url.PathEscape(proposal), nil, nil, &out)
}

type transactionBody struct {
	Transaction string `json:"transaction"`
}

// Approve sends a member-signed approve transaction; it answers once it is confirmed.
func (c *Client) Approve(ctx context.Context, proposal, tx string) (*ApproveResponse, error) {
	var out ApproveResponse
	return &out, c.do(ctx, http.MethodPost, "/proposals/"+url.PathEscape(proposal)+"/approve", nil, transactionBody{tx}, &out)
}

// Cancel sends a cancel transaction signed by a member or the guardian.
func (c *Client) Cancel(ctx context.Context, proposal string, req CancelRequest) (*CancelResponse, error) {
	var out CancelResponse
	return &out, c.do(ctx, http.MethodPost, "/proposals/"+url.PathEscape(proposal)+"/cancel", nil, req, &out)
}

// Execute asks the proposal's workflow to execute now, proven by a member-signed execute
// transaction (the workflow executes with its own key).
func (c *Client) Execute(ctx context.Context, proposal, tx string) (*ExecuteResponse, error) {
	var out ExecuteResponse
	return &out, c.do(ctx, http.MethodPost, "/proposals/"+url.PathEscape(proposal)+"/execute", nil, transactionBody{tx}, &out)
}

// Pause submits a pause_system transaction.
func (c *Client) Pause(ctx context.Context, tx string) (*SystemResponse, error) {
	var out SystemResponse
	return &out, c.do(ctx, http.MethodPost, "/system/pause", nil, transactionBody{tx}, &out)
}

// Resume submits a resume_system transaction signed by threshold members.
func (c *Client) Resume(ctx context.Context, tx string) (*SystemResponse, error) {
	var out SystemResponse
	return &out, c.do(ctx, http.MethodPost, "/system/resume", nil, transactionBody{tx}, &out)
}

// GetMigration returns a migration job's progress.
func (c *Client) GetMigration(ctx context.Context, id string) (*Migration, error) {
	var out Migration
	return &out, c.do(ctx, http.MethodGet, "/migration/"+url.PathEscape(id), nil, nil, &out)
}

// IsCode reports whether err is an API error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// maxResponseBytes bounds what the client reads of one answer.
const maxResponseBytes = 8 << 20

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return errorFrom(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Post sends body as JSON to path and decodes the answer into out (nil: ignored). It is the
// way to reach a route this client has no method for; errors are *Error.
func (c *Client) Post(ctx context.Context, path string, body, out any) error {
	if body == nil {
		body = struct{}{}
	}
	return c.do(ctx, http.MethodPost, path, nil, body, out)
}

// Get reads path (which may carry a query) and decodes the answer into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	q := url.Values{}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		parsed, err := url.ParseQuery(path[i+1:])
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		q, path = parsed, path[:i]
	}
	return c.do(ctx, http.MethodGet, path, q, nil, out)
}

// errorFrom reads the API's error body; an answer that is not one (a proxy's page) keeps its
// status and the start of its text.
func errorFrom(status int, data []byte) *Error {
	e := &Error{}
	if json.Unmarshal(data, e) == nil && e.Code != "" {
		e.Status = status
		return e
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" {
		text = http.StatusText(status)
	}
	return &Error{Status: status, Code: "http_" + strconv.Itoa(status), Message: text}
}
