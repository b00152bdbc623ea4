# Gatehouse server image. Build: docker build -t gatehouse .
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
# Dev dependencies are needed for `prisma generate` in the install step.
RUN npm ci --no-audit --no-fund --include=dev
COPY tsconfig.json ./
COPY src ./src
USER node
EXPOSE 4000
CMD ["node", "--import", "tsx", "src/main.ts"]
