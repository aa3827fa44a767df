import { z } from 'zod';
import { followLink, UpstreamError, UpstreamHttp, type UpstreamResponse, type UpstreamClientDeps } from '../http';

/**
 * A line item. Its shape is unconfirmed upstream: the product is read from `product_name` or
 * `product.name`, the quantity as a number or a decimal string; a line that cannot be read drops out
 * (the order is then packed without it) rather than hiding the order.
 */
const lineSchema = z
  .object({
    product_name: z.string().optional(),
    product: z.object({ name: z.string() }).partial().optional(),
    quantity: z.union([z.number(), z.string()]),
    unit: z.string().optional(),
  })
  .transform((l) => ({ product: l.product_name ?? l.product?.name ?? '', quantity: Number(l.quantity), unit: l.unit ?? 'each' }))
  .refine((l) => l.product.trim() !== '' && Number.isFinite(l.quantity) && l.quantity > 0);

/** What Dockside reads of a LeafTrade order. */
const orderSchema = z.object({
  id: z.number(),
  invoice_id: z.string().nullable(),
  delivery_date: z.string().nullable(),
  total_gross: z.union([z.string(), z.number()]).nullable(),
  dispensary_location: z
    .object({
      name: z.string(),
      license_number: z.union([z.string(), z.number()]).nullable().optional(),
      address: z
        .object({ street_address_1: z.string(), city: z.string(), state: z.string(), postal_code: z.string() })
        .partial()
        .nullable()
        .optional(),
      dispensary: z.object({ name: z.string() }).optional(),
    })
    .nullable()
    .optional(),
  line_items: z
    .array(z.unknown())
    .nullable()
    .optional()
    .transform((items) =>
      (items ?? []).flatMap((raw) => {
        const line = lineSchema.safeParse(raw);
        return line.success ? [line.data] : [];
      }),
    ),
});
const pageSchema = z.object({ next: z.string().nullable(), results: z.array(z.unknown()) });

export type LeafTradeOrder = z.infer<typeof orderSchema>;

const MAX_PAGES = 500;

/** LeafTrade's REST API: token auth, Django paging followed through `next` until null. */
export class LeafTradeClient {
  readonly http: UpstreamHttp;

  constructor(private readonly deps: UpstreamClientDeps & { baseUrl: string }) {
    this.http = new UpstreamHttp({
      name: 'leaftrade',
      baseUrl: deps.baseUrl,
      now: deps.now,
      log: deps.log,
      readTimeoutMs: deps.readTimeoutMs,
      sleep: deps.sleep,
      describeError: djangoErrorText,
    });
  }

  private auth(): Record<string, string> {
    const token = this.deps.secrets.get('leaftrade.token');
    if (!token) throw new UpstreamError('leaftrade', 'credentials', 'No LeafTrade token: enter it in Admin → Sync');
    return { authorization: `Token ${token}` };
  }

  async approvedOrders(): Promise<LeafTradeOrder[]> {
    const headers = this.auth();
    const byId = new Map<number, LeafTradeOrder>();
    let next: string | null = 'api/v1/orders/?status=approved';
    for (let page = 0; next; page++) {
      if (page >= MAX_PAGES) throw new UpstreamError('leaftrade', 'malformed', `LeafTrade kept sending pages (more than ${MAX_PAGES})`);
      const res: UpstreamResponse<unknown> = await this.http.request<unknown>({ method: 'GET', url: next, headers });
      const body = pageSchema.safeParse(res.data);
      if (!body.success) throw new UpstreamError('leaftrade', 'malformed', 'LeafTrade answered a page in an unexpected shape');
      for (const raw of body.data.results) {
        const order = orderSchema.safeParse(raw);
        // One odd order should not hide the others: it is skipped and logged.
        if (order.success) byId.set(order.data.id, order.data);
        else this.deps.log.warn({ issues: order.error.issues.map((i) => i.path.join('.')) }, 'skipped a LeafTrade order of unexpected shape');
      }
      // Django sends `next` absolute, but a proxy can make it relative: resolve it, stay on our host.
      next = body.data.next === null ? null : followLink('leaftrade', body.data.next, res.url, this.http.resolve(''));
    }
    return [...byId.values()];
  }
}

/** Django REST framework errors: `{"detail": "…"}`. */
function djangoErrorText(answer: unknown): { message: string; refused: boolean } | null {
  const detail = (answer as { detail?: unknown } | null)?.detail;
  return typeof detail === 'string' && detail ? { message: detail.slice(0, 300), refused: false } : null;
}
