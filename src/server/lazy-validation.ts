/**
 * Fastify's own schema compilers, made lazy: a route's request schema is compiled on its first request, and its
 * response schema on its first answer, instead of when the route is registered. Compiling the broker API's schemas
 * (and creating ajv) cost 50–80 ms of start-up that `/readyz` should not wait for (bench/startup.mjs, profiled with
 * --cpu-prof), and merely making Fastify's default serializer compiler loaded fast-json-stringify and its ajv (~11 M
 * instructions of every start, bench/limits.md "serve start"), although no page route has a response schema (the
 * broker's routes name theirs in `config.responses` instead). Validation and serialization are unchanged: the
 * compilers are `@fastify/ajv-compiler` and `@fastify/fast-json-stringify-compiler`, the ones Fastify uses by default,
 * resolved from Fastify's own location.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Validate = ((...args: unknown[]) => unknown) & { errors?: unknown };
type Serialize = (data: unknown) => string;
/** A compiler factory as Fastify's default ones are: (external schemas, options) → (route) → compiled function. */
type BuildCompiler<F> = (externalSchemas: unknown, options: unknown) => (route: unknown) => F;

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
/** Fastify's type of `schemaController.compilersFactory.buildValidator`. */
type ValidatorFactory = NonNullable<Compilers['buildValidator']>;
/** Fastify's type of `schemaController.compilersFactory.buildSerializer`. */
type SerializerFactory = NonNullable<Compilers['buildSerializer']>;

/**
 * `pkg`'s compiler factory, made lazy: the package is loaded (from Fastify's location) when a route first needs its
 * compiled function, and each route's function is compiled then, once. Each route gets a getter of its function.
 */
function deferred<F>(pkg: string): BuildCompiler<() => F> {
  return (externalSchemas, options) => {
    let compileRoute: ((route: unknown) => F) | undefined;
    return (route) => {
      let compiled: F | undefined;
      return () => {
        if (compiled === undefined) {
          if (!compileRoute) {
            const require = createRequire(import.meta.resolve('fastify'));
            compileRoute = (require(pkg) as () => BuildCompiler<F>)()(externalSchemas, options);
          }
          compiled = compileRoute(route);
        }
        return compiled;
      };
    };
  };
}

/** A `schemaController.compilersFactory.buildValidator` that defers ajv until a route first validates. */
export function lazyBuildValidator(): ValidatorFactory {
  const ajv = deferred<Validate>('@fastify/ajv-compiler');
  const build: BuildCompiler<Validate> = (externalSchemas, ajvOptions) => {
    const routeOf = ajv(externalSchemas, ajvOptions);
    return (route) => {
      const validator = routeOf(route);
      const lazy: Validate = (...args) => {
        const validate = validator();
        const result = validate(...args);
        // Fastify reads a failed validation's details from the function's `errors`, as ajv leaves them.
        lazy.errors = validate.errors;
        return result;
      };
      return lazy;
    };
  };
  // The wrapper validates exactly as ajv's function does (same result, same `errors`); Fastify's type names ajv's.
  return build as unknown as ValidatorFactory;
}

/** A `schemaController.compilersFactory.buildSerializer` that defers fast-json-stringify until a route first answers. */
export function lazyBuildSerializer(): SerializerFactory {
  const stringify = deferred<Serialize>('@fastify/fast-json-stringify-compiler');
  const build: BuildCompiler<Serialize> = (externalSchemas, serializerOptions) => {
    const routeOf = stringify(externalSchemas, serializerOptions);
    return (route) => {
      const serializer = routeOf(route);
      return (data) => serializer()(data);
    };
  };
  return build as unknown as SerializerFactory;
}
