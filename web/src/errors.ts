// What each error code of the API (openapi.yaml, components.schemas.Error) means for the
// person at the page, plus the page's own failures (wallet, network, a mismatched transaction).
import { ApiError, errorText } from './api';
import { WireError } from './txwire';

export const explanations: Record<string, string> = {
  malformed_json: 'The page sent a request the server could not read.',
  invalid_field: 'A value is not valid.',
  missing_field: 'A required value is missing.',
  unknown_field: 'The request has a field the server does not know.',
  body_too_large: 'The request is too large.',
  unsupported_media_type: 'The request is not JSON.',
  malformed_transaction: 'The signed transaction could not be decoded.',
  missing_signature: 'The transaction lacks a signature.',
  invalid_signature: 'A signature does not verify.',
  wrong_program: 'The transaction does not call the governance program.',
  wrong_instruction: 'The transaction holds another instruction than this action needs.',
  wrong_proposal: 'The transaction is for another proposal.',
  wrong_multisig: 'The transaction names another multisig.',
  not_a_member: 'The signing account is not a member of this multisig.',
  below_threshold: 'Too few members signed.',
  replayed_transaction: 'This transaction was already submitted.',
  stale_proposal_index: 'Another proposal was made meanwhile; review and sign again.',
  stale_proposal: 'A change of the members or threshold executed after this proposal was made: it can no longer be approved or executed. Propose it again.',
  config_refused: 'The governance program refuses this change of the multisig; nothing was proposed.',
  migration_mismatch: 'The migration plan does not match the transaction.',
  missing_token: 'This needs an operator or guardian token.',
  invalid_token: 'The token is not valid.',
  token_revoked: 'The token was revoked.',
  forbidden: 'You may not do this.',
  not_found: 'Not found.',
  proposal_not_found: 'No such proposal.',
  account_not_found: 'The account does not exist on chain.',
  wrong_account: 'The account is not of the expected kind.',
  workflow_not_found: 'The proposal has no running workflow.',
  workflow_closed: "The proposal's workflow has finished.",
  update_rejected: "The proposal's workflow refused this.",
  conflict: 'This conflicts with what is already recorded.',
  invalid_state: 'The proposal or the system is not in a state that allows this.',
  program_error: 'The governance program refused the transaction.',
  transaction_failed: 'The chain refused the transaction.',
  buffer_mismatch: 'The buffer is not what the program would accept (its authority, its ELF or its hash); nothing was started.',
  multisig_not_served: 'This deployment does not serve that multisig; its operator adds it (apiserver multisig serve).',
  fee_payer_low: "The worker's fee payer is below its floor: fund it, or execution and migrations stop.",
  blockhash_expired: 'The transaction expired before it landed; review and sign again.',
  rpc_unavailable: 'The Solana node did not answer; try again shortly.',
  temporal_unavailable: 'Temporal is unavailable; try again shortly.',
  timeout: 'The server took too long; the action may still complete, watch the proposal.',
  not_ready: 'The server is not ready.',
  route_not_found: 'The server does not know this route.',
  method_not_allowed: 'The server does not allow this method here.',
  internal: 'The server failed; its log has the request ID.',
  // The page's own.
  network: 'The API server did not answer.',
  http_error: 'The server answered with an error.',
  bad_answer: 'The server answered without a body.',
  wallet_not_connected: 'Connect a wallet first.',
  wallet_rejected: 'The wallet did not sign.',
  transaction_mismatch: 'The transaction is not what it should be; nothing was signed or sent.',
  not_signed: 'Nothing was signed.',
};

export interface Problem {
  code: string;
  title: string;
  message: string;
  field?: string;
  status?: number;
  requestId?: string;
}

export class PageError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'PageError';
  }
}

export function problem(e: unknown): Problem {
  if (e instanceof ApiError) {
    return {
      code: e.code, title: explanations[e.code] ?? 'The request failed.', message: e.message,
      field: e.field, status: e.status || undefined, requestId: e.requestId,
    };
  }
  if (e instanceof WireError) return { code: 'transaction_mismatch', title: explanations.transaction_mismatch, message: e.message };
  if (e instanceof PageError) return { code: e.code, title: explanations[e.code] ?? 'The action failed.', message: e.message };
  return { code: 'error', title: 'Something failed.', message: errorText(e) };
}
