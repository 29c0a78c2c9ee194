/**
 * Fastify's own ajv validator compiler, made lazy: a route's schema is compiled on its first request instead of when
 * the route is registered. Compiling the broker API's schemas (and creating ajv) costs 50–80 ms of start-up that
 * `/readyz` should not wait for (bench/startup.mjs, profiled with --cpu-prof). Validation itself is unchanged: the
 * compiler is `@fastify/ajv-compiler`, the one Fastify uses by default, resolved from Fastify's own location.
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Validate = ((...args: unknown[]) => unknown) & { errors?: unknown };
type CompileRoute = (route: unknown) => Validate;
type BuildValidator = (externalSchemas: unknown, ajvOptions: unknown) => CompileRoute;

/** Fastify's type of `schemaController.compilersFactory.buildValidator`. */
type ValidatorFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;

/** A `schemaController.compilersFactory.buildValidator` that defers ajv until a route first validates. */
export function lazyBuildValidator(): ValidatorFactory {
  const build: BuildValidator = (externalSchemas, ajvOptions) => {
    let compileRoute: CompileRoute | undefined;
    return (route) => {
      let validate: Validate | undefined;
      const lazy: Validate = (...args) => {
        if (!validate) {
          if (!compileRoute) {
            const require = createRequire(import.meta.resolve('fastify'));
            const selector = require('@fastify/ajv-compiler') as () => BuildValidator;
            compileRoute = selector()(externalSchemas, ajvOptions);
          }
          validate = compileRoute(route);
        }
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

type Serialize = (data: unknown) => string;
type BuildSerializer = (externalSchemas: unknown, serializerOptions: unknown) => (route: unknown) => Serialize;

/** Fastify's type of `schemaController.compilersFactory.buildSerializer`. */
type SerializerFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']
>;

/**
 * A `schemaController.compilersFactory.buildSerializer` that defers fast-json-stringify until a route with a response
 * schema first answers: Fastify made its default one when the app was created, loading fast-json-stringify and its
 * ajv (~11 M instructions of every start, bench/limits.md "serve start"), although no page route has a response
 * schema (and the broker's routes name theirs in `config.responses` instead). The serializer is Fastify's default one, `@fastify/fast-json-stringify-compiler`.
 */
export function lazyBuildSerializer(): SerializerFactory {
  const build: BuildSerializer = (externalSchemas, serializerOptions) => {
    let compileRoute: ((route: unknown) => Serialize) | undefined;
    return (route) => {
      let serialize: Serialize | undefined;
      return (data) => {
        if (!serialize) {
          if (!compileRoute) {
            const require = createRequire(import.meta.resolve('fastify'));
            const selector = require('@fastify/fast-json-stringify-compiler') as () => BuildSerializer;
            compileRoute = selector()(externalSchemas, serializerOptions);
          }
          serialize = compileRoute(route);
        }
        return serialize(data);
      };
    };
  };
  return build as unknown as SerializerFactory;
}
