// A client of a hubnet node, typed by the API's OpenAPI document: hubnet.d.ts is
// generated from ../openapi.json (npm run generate), and tsc checks every path,
// parameter and answer used here against it (npm run check).
import createClient from "openapi-fetch";
import type { paths } from "./hubnet.js";

const hubnet = createClient<paths>({
  baseUrl: process.env.HUBNET_NODE ?? "http://127.0.0.1:7480",
  headers: { Authorization: `Bearer ${process.env.HUBNET_TOKEN ?? ""}` },
});

// The directory: every hub this node knows.
const hubs = await hubnet.GET("/v1/hubs");
if (hubs.error) throw new Error(hubs.error.error.message);
for (const h of hubs.data) console.log(`hub ${h.id}: ${h.profile.name}, revision ${h.revision}`);

// A search: its parameters and its answer are typed.
const found = await hubnet.GET("/v1/search", {
  params: { query: { tech: ["ai-decision-support"], family: "test-before-invest", region: "FI193" } },
});
if (found.error) throw new Error(found.error.error.message);
for (const hit of found.data.hits) console.log(`hit ${hit.rank}. ${hit.id}, free ${hit.free ?? "?"}`);

// A change, with the operator token: the capacity of one service family.
const saved = await hubnet.PUT("/v1/self/capacity/{family}", {
  params: { path: { family: "test-before-invest" } },
  body: { available: 2 },
});
if (saved.error) throw new Error(saved.error.error.message);
console.log(`capacity ${saved.data.capacity?.["test-before-invest"]?.available}, revision ${saved.data.revision}`);

// An error answer carries the API's code.
const missing = await hubnet.GET("/v1/hubs/{id}", { params: { path: { id: "no-such-hub" } } });
console.log(`error ${missing.response.status} ${missing.error?.error.code}`);
