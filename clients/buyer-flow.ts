// A buyer's flow written against the TypeScript types openapi-typescript generates from the OpenAPI
// document (tests/core/test_generated_clients.py generates ./schema.d.ts beside this file, then runs
// tsc --strict on it): if the document loses a path, a field or the error envelope, this stops compiling.
import type { components, operations, paths } from "./schema";

type Schemas = components["schemas"];
type Json<Op extends keyof operations, Code extends keyof operations[Op]["responses"]> =
  operations[Op]["responses"][Code] extends { content: { "application/json": infer Body } } ? Body : never;

async function call<T>(base: string, path: string, init: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(base + path, init);
  return { status: response.status, body: (await response.json()) as T };
}

function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...headers } };
}

export async function buyerFlow(base: string): Promise<string> {
  const credentials: Schemas["TokenObtainInputRequest"] = { username: "demo_consumer", password: "secret" };
  const tokens = await call<Json<"auth_token", 200>>(base, "/api/auth/token", jsonInit("POST", credentials));
  const bearer = { Authorization: `Bearer ${tokens.body.access}` };

  const found = await call<Json<"products_list", 200>>(base, "/api/products/?search=西红柿", { headers: bearer });
  const product: Schemas["ProductListOutput"] = found.body.results[0];
  const checkout: Schemas["CheckoutInputRequest"] = {
    items: [{ product: product.id, quantity: 1 }],
    address: { village: 1, detail: "3号院", recipient: "李四", phone: "13800000001" },
  };
  const created = await call<Json<"orders_create", 201>>(base, "/api/orders/",
    jsonInit("POST", checkout, { ...bearer, "Idempotency-Key": crypto.randomUUID() }));
  const order: Schemas["OrderOutput"] = created.body;
  const paid = await call<Json<"orders_pay", 201> | Json<"orders_pay", 409>>(base, `/api/orders/${order.id}/pay/`,
    jsonInit("POST", {}, bearer));
  if (paid.status === 409) {
    const refusal = paid.body as Json<"orders_pay", 409>;
    const envelope: Schemas["ErrorEnvelope"] = refusal;
    return `${envelope.error.code}: ${envelope.error.message}`;
  }
  const payment = paid.body as Schemas["PaymentOutput"];
  const pathExists: keyof paths = "/api/orders/{order_id}/pay/";
  return `${pathExists} ${payment.id} ${payment.amount} ${order.total}`;
}
