-- CreateEnum
CREATE TYPE "RateLimitWindow" AS ENUM ('minute', 'hour', 'day');

-- CreateEnum
CREATE TYPE "RateLimitFailMode" AS ENUM ('open', 'closed');

-- CreateTable
CREATE TABLE "rate_limit_configs" (
    "id" UUID NOT NULL,
    "plan" "Plan" NOT NULL,
    "operation" TEXT NOT NULL,
    "window" "RateLimitWindow" NOT NULL,
    "points" INTEGER NOT NULL,
    "cost" INTEGER NOT NULL DEFAULT 1,
    "fail_mode" "RateLimitFailMode" NOT NULL DEFAULT 'open',
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rate_limit_configs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "rate_limit_configs_plan_operation_window_key" ON "rate_limit_configs"("plan", "operation", "window");

-- Points and costs are never negative: a negative cost would refill a bucket.
ALTER TABLE "rate_limit_configs"
    ADD CONSTRAINT "rate_limit_configs_points_check" CHECK ("points" >= 0),
    ADD CONSTRAINT "rate_limit_configs_cost_check" CHECK ("cost" >= 0),
    ADD CONSTRAINT "rate_limit_configs_operation_check" CHECK ("operation" ~ '^[_A-Za-z*?][_0-9A-Za-z*?]{0,99}$');

-- Default quotas, listed in docs/rate-limits.md. `*` is every root field without its own row.
-- Login and register keep enforcing per instance while Redis is down (closed), the rest stays open.
INSERT INTO "rate_limit_configs" ("id", "plan", "operation", "window", "points", "cost", "fail_mode", "updated_at")
SELECT gen_random_uuid(), p.plan::"Plan", d.operation, d."window"::"RateLimitWindow", d.points * p.factor,
       1, d.fail_mode::"RateLimitFailMode", CURRENT_TIMESTAMP
FROM (VALUES ('free', 1), ('pro', 10), ('enterprise', 50)) AS p(plan, factor)
CROSS JOIN (VALUES
    ('*', 'minute', 60, 'open'),
    ('*', 'hour', 1000, 'open'),
    ('*', 'day', 10000, 'open')
) AS d(operation, "window", points, fail_mode)
UNION ALL
SELECT gen_random_uuid(), p.plan::"Plan", d.operation, d."window"::"RateLimitWindow", d.points,
       1, 'closed'::"RateLimitFailMode", CURRENT_TIMESTAMP
FROM (VALUES ('free'), ('pro'), ('enterprise')) AS p(plan)
CROSS JOIN (VALUES
    ('login', 'minute', 20),
    ('login', 'hour', 200),
    ('login', 'day', 1000),
    ('register', 'minute', 5),
    ('register', 'hour', 20),
    ('register', 'day', 50)
) AS d(operation, "window", points);
