// The API's routes and answers (openapi.yaml at the repository root describes them). The page
// is served by the apiserver under /ui/, so the API is the same origin, one level up.

const apiBase = () => location.pathname.replace(/\/ui(\/.*)?$/, '');

export interface Proposal {
  address: string;
  multisig: string;
  index: number;
  // An upgrade of a governed program, or a change of the multisig itself (actions); a config
  // proposal's target_program, buffer and buffer_hash are empty.
  kind: 'upgrade' | 'config';
  target_program: string;
  buffer: string;
  buffer_hash: string;
  actions?: ConfigAction[];
  // A change of the members or threshold executed after this proposal was created: the program
  // refuses its approval and execution; it can still be cancelled.
  stale?: boolean;
  stale_reason?: string;
  proposer: string;
  description: string;
  status: string; // active, approved, executed, cancelled, expired, or pending (workflow only)
  approvals: string[];
  approval_count: number;
  threshold: number;
  migration_target_version: number | null;
  // the whole signed plan (chain source only)
  migration?: { target_version: number; from_version: number; data_size: number; version_offset: number; instruction_data: string };
  // a later executed upgrade of the program: this migration plan can no longer run
  migration_superseded_by?: string;
  created_at: string | null;
  approved_at: string | null;
  eta: string | null;
  expires_at: string | null;
  execute_by?: string | null; // approved: the last moment it may execute (eta + grace)
  executed_at: string | null;
  closed_at: string | null;
  workflow_id?: string;
  propose_signature?: string;
  execute_signature?: string;
  // GET /proposals/:id only: what may be done now and by whom (the server's lifecycle rules).
  allowed_actions?: AllowedAction[];
}

/** ConfigAction is one change of a config proposal, as the API writes it (openapi.yaml). */
export interface ConfigAction {
  kind: ConfigActionKind | string; // an index row that does not decode has kind "unreadable"
  member?: string;
  guardian?: string;
  program?: string;
  threshold?: number;
  seconds?: number;
  // set_program_authority: the program's new upgrade authority; absent or null makes it immutable.
  new_authority?: string | null;
  summary?: string; // output only: the server's words
}

export type ConfigActionKind =
  | 'add_member' | 'remove_member' | 'set_threshold' | 'set_timelock' | 'set_proposal_lifetime'
  | 'set_grace' | 'set_guardian' | 'set_program_authority';

export interface AllowedAction {
  action: 'approve' | 'execute' | 'cancel' | 'emergency_stop' | 'migrate';
  by: ('member' | 'guardian' | 'operator')[];
  note?: string;
}

export interface ProposalList {
  proposals: Proposal[];
  total: number;
  limit: number;
  offset: number;
  next_offset: number | null;
}

export interface ProposalState {
  step: string;
  status: string;
  approvals: string[];
  threshold: number;
  eta: string | null;
  expires_at: string | null;
  paused: boolean;
  propose_signature?: string;
  execute_signature?: string;
  cancel_signature?: string;
  migration_workflow_id?: string;
  last_error?: string;
  // The proposal's index is at or below the multisig's stale index, whatever its status: the
  // page shows Proposal.stale, which the API sets for open proposals only.
  stale?: boolean;
}

export interface WorkflowView {
  id: string;
  run_id: string;
  status: string;
  state: ProposalState | null;
  query_error?: string;
}

export interface Approval {
  member: string;
  signature: string;
  slot: number;
  approved_at: string;
}

export interface ProposalDetail {
  proposal: Proposal;
  source: 'chain' | 'index' | 'workflow';
  paused: boolean | null;
  indexed: Proposal | null;
  approval_history: Approval[];
  workflow: WorkflowView | null;
}

export interface MigrationState {
  status: string;
  total: number;
  migrated: number;
  failed: number;
  remaining: number;
  transactions: number;
  compute_units: number;
  rate_per_sec: number; // time held (paused) left out
  paused_seconds: number;
  last_error?: string;
}

export interface JobProgress {
  status: string;
  stopped_at?: string;
  total: number;
  pending: number;
  migrated: number;
  failed: number;
  skipped: number;
}

export interface Migration {
  id: string;
  workflow_status?: string;
  run_id?: string;
  state: MigrationState | null;
  query_error?: string;
  job: JobProgress | null;
}

export interface AuditEntry {
  id: number;
  // When it happened, by the clock at_clock names (the chain's is moved by time travel on a
  // test chain); recorded_at is when the row was written, the trail's order.
  at: string;
  at_clock: 'chain' | 'server';
  recorded_at: string;
  actor: string;
  action: string;
  proposal?: string;
  signature?: string;
  slot?: number;
  source: string;
  details: Record<string, unknown>;
}

export interface AuditPage {
  entries: AuditEntry[];
  next: number | null;
}

export interface Multisig {
  address: string;
  authority: string;
  members: string[];
  threshold: number;
  timelock_seconds: number;
  proposal_lifetime_seconds: number;
  grace_seconds: number;
  max_pause_seconds: number;
  pause_cooldown_seconds: number;
  pause_expires_at: string | null;
  paused_by?: string;
  pause_votes: string[];
  resume_votes: string[];
  guardian: string;
  paused: boolean;
  proposal_index: number;
  // Proposals up to this index were made stale by a config change of the members or threshold.
  stale_proposal_index: number;
  history: MultisigConfig[]; // newest first: the creation, then each executed config proposal
}

/** MultisigConfig is one configuration in a multisig's history: who was a member when. */
export interface MultisigConfig {
  signature: string;
  slot: number;
  proposal?: string; // the config proposal that set it; absent for the creation
  effective_at: string;
  members: string[];
  threshold: number;
  timelock_seconds: number;
  proposal_lifetime_seconds: number;
  grace_seconds: number | null; // null for the creation
  guardian: string;
  stale_proposal_index: number;
}

export interface TxSummary {
  instruction: string;
  multisig: string;
  proposal?: string;
  proposal_index?: number;
  program?: string;
  buffer?: string;
  buffer_hash?: string;
  description?: string;
  migration_target_version?: number;
  actions?: ConfigAction[]; // a config proposal's changes, each with its summary
  fee_payer: string;
  signers: string[];
  blockhash: string;
  then: string;
}

export interface UnsignedTx {
  transaction: string;
  message: string;
  summary: TxSummary;
}

export interface UIConfig {
  program_id: string;
  temporal_namespace: string;
}

/** ApiError is the API's `{code, message, field}` answer, or a failure to get one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let resp: Response;
  try {
    resp = await fetch(apiBase() + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `The API server did not answer (${errorText(e)}).`);
  }
  const text = await resp.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  const requestId = resp.headers.get('x-request-id') ?? undefined;
  if (!resp.ok) {
    const e = data as { code?: unknown; message?: unknown; field?: unknown } | undefined;
    if (e && typeof e.code === 'string') {
      throw new ApiError(resp.status, e.code, String(e.message ?? ''),
        typeof e.field === 'string' && e.field ? e.field : undefined, requestId);
    }
    throw new ApiError(resp.status, 'http_error', `${resp.status} ${resp.statusText}: ${text.slice(0, 200)}`, undefined, requestId);
  }
  if (data === undefined) throw new ApiError(resp.status, 'bad_answer', 'The API answered without a JSON body.', undefined, requestId);
  return data as T;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

const enc = encodeURIComponent;

export const getConfig = () => request<UIConfig>('GET', '/ui/config.json');
export const listProposals = (q: { status?: string; multisig?: string; limit?: number } = {}) => {
  const p = new URLSearchParams();
  if (q.status) p.set('status', q.status);
  if (q.multisig) p.set('multisig', q.multisig);
  p.set('limit', String(q.limit ?? 100));
  return request<ProposalList>('GET', '/proposals?' + p.toString());
};
export interface CancelResponse {
  proposal: string;
  mode: 'transaction' | 'emergency_stop';
  signature?: string;
  workflow_id: string;
  status: 'cancelled' | 'cancel_voted' | 'cancel_requested';
  votes?: number;
  threshold?: number;
}

export interface Clock {
  chain_time: string;
  server_time: string;
}
export interface ServedMultisig {
  address: string;
  label: string;
  served_at: string;
  served_by: string;
}
export const getClock = () => request<Clock>('GET', '/clock');
export const listServed = () => request<{ multisigs: ServedMultisig[] }>('GET', '/multisigs');
export const getProposal = (addr: string) => request<ProposalDetail>('GET', '/proposals/' + enc(addr));
export const getMigration = (id: string) => request<Migration>('GET', '/migration/' + enc(id));
export const listAudit = (proposal: string, limit = 100) =>
  request<AuditPage>('GET', `/audit?proposal=${enc(proposal)}&limit=${limit}`);
export const getMultisig = (addr: string) => request<Multisig>('GET', '/multisig/' + enc(addr));

export const migrationID = (proposal: string) => 'migration-' + proposal;

export interface ApproveResponse {
  proposal: string;
  member: string;
  signature: string;
  approvals: number;
  threshold: number;
  status: string;
  eta: string | null;
}

export interface CreateProposalResponse {
  proposal: string;
  multisig: string;
  signature: string;
  workflow_id: string;
  run_id: string;
  created: boolean;
}
