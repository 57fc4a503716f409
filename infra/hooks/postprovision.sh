#!/bin/sh
# Runs after `azd provision`: creates the API key pepper (Key Vault secret api-key-pepper) when it
# does not exist yet. It is generated here, not in the template, so that its value never appears in
# a template, a parameter or the deployment history. An existing pepper is never replaced:
# replacing it would invalidate every API key already issued.
#
# Needs the Azure CLI signed in as the deployer (Key Vault Secrets Officer on the vault, granted by
# the template) and openssl. azd provides the variables below from its environment and the
# deployment's outputs. Every az command names azd's subscription: the CLI's default one may be another.
# postprovision.ps1 does the same on Windows.
set -eu

subscription=${AZURE_SUBSCRIPTION_ID:?AZURE_SUBSCRIPTION_ID is not set; run this through azd}
vault=${AZURE_KEY_VAULT_NAME:?AZURE_KEY_VAULT_NAME is not set; run this through azd}
app=${AZURE_FUNCTION_APP_NAME:?AZURE_FUNCTION_APP_NAME is not set; run this through azd}
group=${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set; run this through azd}
secret=api-key-pepper

for tool in az openssl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "postprovision: $tool is required" >&2; exit 1; }
done

# A new role assignment can take a few minutes to reach Key Vault: retry while access is denied,
# for at most 5 minutes.
attempt=1
while :; do
    if output=$(az keyvault secret show --subscription "$subscription" --vault-name "$vault" --name "$secret" --query id --output tsv 2>&1); then
        echo "postprovision: $secret already exists in $vault; kept"
        exit 0
    fi
    case $output in
        *SecretNotFound*) break ;;
    esac
    if [ "$attempt" -ge 30 ]; then
        echo "postprovision: cannot read $secret from $vault: $output" >&2
        exit 1
    fi
    echo "postprovision: waiting for access to $vault ($attempt/30)"
    attempt=$((attempt + 1))
    sleep 10
done

# The value goes through a private temporary file, never through a command line.
umask 077
file=$(mktemp)
trap 'rm -f "$file"' EXIT
openssl rand -base64 32 | tr -d '\n' >"$file"
az keyvault secret set --subscription "$subscription" --vault-name "$vault" --name "$secret" --file "$file" --encoding utf-8 \
    --content-type "HMAC key of API key hashes" --output none
echo "postprovision: created $secret in $vault"

# Key Vault references are resolved when the app starts: restart so it reads the new secret.
az functionapp restart --subscription "$subscription" --resource-group "$group" --name "$app" --output none
