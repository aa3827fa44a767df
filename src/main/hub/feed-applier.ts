import type { FeedEntry } from '../../shared/hub';
import type { Db } from '../db/open';

/**
 * Applies one site feed entry to the station's replica. Called inside the one synchronous
 * transaction a page of the feed is applied in: it must not await, and a throw rolls the page back.
 */
export type FeedApplier = (db: Db, entry: FeedEntry, ctx: { now: number; stationName: string }) => void;
