/**
 * What a Gateway implementation does with what the program sets, where that differs between
 * implementations and matters to dot-ai's clients: each entry was seen on that implementation in
 * the project's end-to-end tests (docs/implementations.md). Keyed by the GatewayClass's
 * `controllerName`; an implementation not listed here has not been checked.
 */
export interface Implementation {
  readonly name: string;
  /**
   * Whether it applies HTTPRoute rule `timeouts` (request, backendRequest), which bound how long a
   * response, and so an MCP event stream, may last. An implementation that ignores them still
   * reports the route Accepted.
   */
  readonly routeTimeouts: "applied" | "ignored";
  /** What bounds a long event stream on it instead, when it ignores the route's timeouts. */
  readonly streamLimit?: string;
}

export const IMPLEMENTATIONS: Readonly<Record<string, Implementation>> = {
  "gateway.envoyproxy.io/gatewayclass-controller": { name: "Envoy Gateway", routeTimeouts: "applied" },
  "traefik.io/gateway-controller": {
    name: "Traefik",
    routeTimeouts: "ignored",
    streamLimit:
      "its own entryPoint and serversTransport timeouts, none of which ends a response stream with Traefik's defaults (respondingTimeouts.readTimeout, 60 s, bounds reading the request; writeTimeout is 0)",
  },
};

/** The note doctor adds where `controllerName`'s implementation ignores the route's timeouts. */
export function timeoutsNote(controllerName: string | undefined): string | undefined {
  const impl = controllerName === undefined ? undefined : IMPLEMENTATIONS[controllerName];
  if (impl?.routeTimeouts !== "ignored") return undefined;
  return `${impl.name} (${controllerName}) ignores HTTPRoute timeouts and still reports the route Accepted: what bounds an SSE stream there is ${impl.streamLimit} (docs/implementations.md)`;
}
