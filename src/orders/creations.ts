import { d1Change, d1Read } from "../closes/d1";
import { orderKey } from "../closes/ids";
import type { Edition } from "../sparkpay/constants";
import type { CreateOrderResponse } from "../sparkpay/order-schemas";
import type { OrderRef, OrderState } from "../sparkpay/schemas";

/**
 * The creations' record in D1 (migrations/0007_order_creations.sql): who holds an order's creation, and what came of
 * it. Each change names the claim it belongs to, so a request that lost its claim (taken over once stale) changes
 * nothing.
 */

export type CreationStatus = "creating" | "created" | "answer_lost";

export interface CreationRow {
  edition: Edition;
  fingerprint: string;
  status: CreationStatus;
  claim_id: string;
  claims: number;
  started_at: number;
  answer: CreateOrderResponse | undefined;
  order: OrderState | undefined;
}

export interface Claim {
  order: OrderRef;
  edition: Edition;
  fingerprint: string;
  claimId: string;
}

interface StoredRow extends Omit<CreationRow, "answer" | "order"> {
  answer_json: string | null;
  order_json: string | null;
}

function rowOf(stored: StoredRow | undefined): CreationRow | undefined {
  if (!stored) return undefined;
  const { answer_json, order_json, ...row } = stored;
  return {
    ...row,
    answer: answer_json === null ? undefined : JSON.parse(answer_json),
    order: order_json === null ? undefined : JSON.parse(order_json),
  };
}

const SELECT = `SELECT edition, fingerprint, status, claim_id, claims, started_at, answer_json, order_json
FROM order_creations WHERE order_key = ?1`;

/**
 * Claims the order's creation: a new row, or a `creating` row for the same body that is stale (started before
 * `staleBefore`, or left unknown at 0). Returns the row as it is now: the claim is ours when its claim_id is.
 */
export async function claimCreation(
  db: D1Database,
  claim: Claim,
  now: number,
  staleBefore: number,
): Promise<CreationRow> {
  const key = orderKey(claim.order.merchant_no, claim.order.request_no);
  const [, read] = await d1Change(() =>
    db.batch([
      db
        .prepare(
          `INSERT INTO order_creations (order_key, merchant_no, request_no, edition, fingerprint, status, claim_id,
  started_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, 'creating', ?6, ?7, ?7)
ON CONFLICT (order_key) DO UPDATE SET claim_id = excluded.claim_id, claims = claims + 1,
  started_at = excluded.started_at, updated_at = excluded.updated_at
WHERE status = 'creating' AND fingerprint = excluded.fingerprint AND started_at < ?8`,
        )
        .bind(
          key,
          claim.order.merchant_no,
          claim.order.request_no,
          claim.edition,
          claim.fingerprint,
          claim.claimId,
          now,
          staleBefore,
        ),
      db.prepare(SELECT).bind(key),
    ]),
  );
  const row = rowOf(read?.results[0] as unknown as StoredRow | undefined);
  if (!row) throw new Error("order_creations: the claimed row is missing.");
  return row;
}

/** The order's creation as recorded, if any. */
export async function findCreation(db: D1Database, order: OrderRef): Promise<CreationRow | undefined> {
  const key = orderKey(order.merchant_no, order.request_no);
  return rowOf((await d1Read(() => db.prepare(SELECT).bind(key).first<StoredRow>())) ?? undefined);
}

/** Ends the claim: `created` with SparkPay's answer, `answer_lost` with the order a query showed, or (null) no row. */
export async function settleCreation(
  db: D1Database,
  claim: Claim,
  outcome: { status: "created"; answer: CreateOrderResponse } | { status: "answer_lost"; order: OrderState } | null,
  now: number,
): Promise<void> {
  const key = orderKey(claim.order.merchant_no, claim.order.request_no);
  const statement = outcome
    ? db
        .prepare(
          `UPDATE order_creations SET status = ?3, answer_json = ?4, order_json = ?5, updated_at = ?6
WHERE order_key = ?1 AND claim_id = ?2 AND status = 'creating'`,
        )
        .bind(
          key,
          claim.claimId,
          outcome.status,
          outcome.status === "created" ? JSON.stringify(outcome.answer) : null,
          outcome.status === "answer_lost" ? JSON.stringify(outcome.order) : null,
          now,
        )
    : db
        .prepare("DELETE FROM order_creations WHERE order_key = ?1 AND claim_id = ?2 AND status = 'creating'")
        .bind(key, claim.claimId);
  await d1Change(() => statement.run());
}

/** Moves a claim's start (the stale window counts from it); whether the claim was still this request's. */
async function restartClaim(db: D1Database, claim: Claim, startedAt: number, now: number): Promise<boolean> {
  const key = orderKey(claim.order.merchant_no, claim.order.request_no);
  const result = await d1Change(() =>
    db
      .prepare(
        `UPDATE order_creations SET started_at = ?3, updated_at = ?4
WHERE order_key = ?1 AND claim_id = ?2 AND status = 'creating'`,
      )
      .bind(key, claim.claimId, startedAt, now)
      .run(),
  );
  return result.meta.changes === 1;
}

/**
 * Renews the claim just before SparkPay is asked (its stale window starts again, so it covers the one call), and says
 * whether it is still this request's: false when another took it over meanwhile, and must not be sent twice.
 */
export const renewClaim = (db: D1Database, claim: Claim, now: number) => restartClaim(db, claim, now, now);

/** Leaves the claim for the next try of the same body to take over at once (it asks SparkPay first). */
export async function leaveCreationUnknown(db: D1Database, claim: Claim, now: number): Promise<void> {
  await restartClaim(db, claim, 0, now);
}
