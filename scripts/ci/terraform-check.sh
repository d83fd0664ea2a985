#!/usr/bin/env bash
# Offline Terraform checks (no AWS account, no internet): providers come from the
# filesystem mirror /opt/tf-plugins through terraform/ci.tfrc.
#
#   0. the module READMEs' Inputs/Outputs tables match the code (scripts/terraform-docs.mjs --check)
#   1. terraform fmt -check -recursive terraform
#   2. init -backend=false + validate: every environment root, the bootstrap root and every
#      module example
#   3. plan dev and prod with a local backend and fake credentials, and write
#      `terraform show -json` to terraform/.plan/<env>.json (read by terraform/test)
#
# Usage (from anywhere): bash scripts/ci/terraform-check.sh [--plan-only]
#   --plan-only   only step 3 (what the jest tests need)
# Environment: COVID_ETL_ARTIFACTS_DIR  folder holding <name>/dist/<name>.zip (default: services)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
tf_root=$root/terraform
artifacts_dir=${COVID_ETL_ARTIFACTS_DIR:-$root/services}
functions=(fetcher transformer loader notifier slack-forwarder watchdog dashboard)
environments=(dev prod)

plan_only=false
case "${1:-}" in
  --plan-only) plan_only=true ;;
  "") ;;
  -h | --help)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "Unknown argument: $1 (try --help)" >&2
    exit 2
    ;;
esac

step() { printf -- '--> %s\n' "$*"; }
fail() {
  printf 'terraform-check: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------
# Toolchain: Terraform, the provider mirror, no credentials and no network.
# ---------------------------------------------------------------------------------------
command -v terraform >/dev/null 2>&1 || fail "terraform is not installed (expected 1.11.x at /usr/local/bin/terraform)."
[[ -d /opt/tf-plugins/registry.terraform.io/hashicorp/aws ]] ||
  fail "the provider mirror /opt/tf-plugins is missing (hashicorp/aws 5.100.0); see terraform/README.md."

export TF_CLI_CONFIG_FILE=$tf_root/ci.tfrc
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
unset TF_WORKSPACE TF_CLI_ARGS AWS_PROFILE AWS_SESSION_TOKEN
# Fake credentials: nothing here may reach AWS (the plan's provider skips every AWS call).
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

work=$(mktemp -d "${TMPDIR:-/tmp}/terraform-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
step "terraform $(terraform version | head -n1 | cut -d' ' -f2), provider mirror /opt/tf-plugins, work dir $work"

# Runs a Terraform command quietly; prints the end of its output only when it fails.
run() {
  local log=$work/last.log
  if ! "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    fail "failed: $*"
  fi
}

# init -backend=false + validate in a directory; the .terraform folder lives in the work
# dir so the checkout stays clean. Roots with a committed lock file must match it.
validate_dir() {
  local dir=$1 lockfile_flag=()
  [[ -f $dir/.terraform.lock.hcl && $dir != */examples/* ]] && lockfile_flag=(-lockfile=readonly)
  export TF_DATA_DIR=$work/data/${dir//\//_}
  run terraform -chdir="$dir" init -backend=false -no-color "${lockfile_flag[@]}"
  run terraform -chdir="$dir" validate -no-color
  unset TF_DATA_DIR
  step "valid: ${dir#"$root"/}"
}

if ! $plan_only; then
  step "module READMEs: Inputs/Outputs tables generated from the code"
  node "$root/scripts/terraform-docs.mjs" --check || fail "a module README is stale: run node scripts/terraform-docs.mjs"

  step "fmt -check -recursive terraform"
  if ! terraform fmt -check -recursive -diff -no-color "$tf_root" >"$work/fmt.log" 2>&1; then
    cat "$work/fmt.log" >&2
    fail "terraform fmt found unformatted files; run: terraform fmt -recursive terraform"
  fi

  step "init -backend=false + validate"
  for env in "${environments[@]}"; do validate_dir "$tf_root/environments/$env"; done
  validate_dir "$tf_root/bootstrap"
  while IFS= read -r example; do validate_dir "$example"; done < <(
    find "$tf_root/modules" -mindepth 3 -maxdepth 3 -type d -path '*/examples/*' -not -path '*/.terraform*' | sort
  )
fi

# ---------------------------------------------------------------------------------------
# Offline plan of every environment.
# ---------------------------------------------------------------------------------------
missing=()
for name in "${functions[@]}"; do
  [[ -f $artifacts_dir/$name/dist/$name.zip ]] || missing+=("$artifacts_dir/$name/dist/$name.zip")
done
if ((${#missing[@]})); then
  printf '  missing: %s\n' "${missing[@]}" >&2
  fail "the service zips are missing: run pnpm build first (from the repository root)."
fi

mkdir -p "$tf_root/.plan"
for env in "${environments[@]}"; do
  step "plan $env (offline: local backend, fake credentials)"
  # A copy of the modules and the environment root: the committed root keeps its S3
  # backend; the copy gets an override file with a local backend and a provider that
  # never calls AWS. The zips are copied too (same relative path as in the checkout), so
  # a build running meanwhile cannot pull them away mid-plan.
  copy=$work/plan-$env
  mkdir -p "$copy/terraform/environments"
  cp -R "$tf_root/modules" "$copy/terraform/modules"
  cp -R "$tf_root/environments/$env" "$copy/terraform/environments/$env"
  # The queue settings the pipeline module reads (QUEUES of packages/contracts).
  mkdir -p "$copy/packages/contracts/src"
  cp "$root/packages/contracts/src/queues.json" "$copy/packages/contracts/src/queues.json"
  rm -rf "$copy/terraform/environments/$env/.terraform" "$copy/terraform/environments/$env"/*.tfstate*
  find "$copy/terraform/modules" -name .terraform -type d -prune -exec rm -rf {} +
  for name in "${functions[@]}"; do
    mkdir -p "$copy/services/$name/dist"
    cp "$artifacts_dir/$name/dist/$name.zip" "$copy/services/$name/dist/$name.zip" ||
      fail "could not copy $name.zip (a build running meanwhile?): run pnpm build first."
  done
  cat >"$copy/terraform/environments/$env/ci_override.tf" <<'EOF'
# Written by scripts/ci/terraform-check.sh for the offline plan; never committed.
terraform {
  backend "local" {}
}

provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  allowed_account_ids         = null
}
EOF
  dir=$copy/terraform/environments/$env
  run terraform -chdir="$dir" init -no-color -lockfile=readonly
  run terraform -chdir="$dir" plan -no-color -refresh=false -lock=false -out=plan.bin
  terraform -chdir="$dir" show -json plan.bin >"$work/$env.json" || fail "terraform show -json failed for $env"
  mv "$work/$env.json" "$tf_root/.plan/$env.json"
  step "planned $env: $(grep -o '"change":{"actions":\["create"\]' "$tf_root/.plan/$env.json" | wc -l) resources to create -> terraform/.plan/$env.json"
done

step "terraform checks passed"
