# Runs after `azd provision` on Windows (postprovision.sh elsewhere): creates the API key pepper (Key Vault secret
# api-key-pepper) when it does not exist yet. It is generated here, not in the template, so that its value never
# appears in a template, a parameter or the deployment history. An existing pepper is never replaced: replacing it
# would invalidate every API key already issued.
#
# Needs PowerShell 7 and the Azure CLI signed in as the deployer (Key Vault Secrets Officer on the vault, granted by
# the template). azd provides the variables below from its environment and the deployment's outputs. Every az command
# names azd's subscription: the CLI's default one may be another.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-AzdValue([string] $Name) {
    $value = [Environment]::GetEnvironmentVariable($Name)
    if ([string]::IsNullOrEmpty($value)) {
        throw "postprovision: $Name is not set; run this through azd"
    }
    return $value
}

$subscription = Get-AzdValue 'AZURE_SUBSCRIPTION_ID'
$vault = Get-AzdValue 'AZURE_KEY_VAULT_NAME'
$app = Get-AzdValue 'AZURE_FUNCTION_APP_NAME'
$group = Get-AzdValue 'AZURE_RESOURCE_GROUP'
$secret = 'api-key-pepper'

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    throw 'postprovision: az is required'
}

# A new role assignment can take a few minutes to reach Key Vault: retry while access is denied, for at most 5 minutes.
for ($attempt = 1; ; $attempt++) {
    $output = & az keyvault secret show --subscription $subscription --vault-name $vault --name $secret --query id --output tsv 2>&1
    if ($LASTEXITCODE -eq 0) {
        Write-Host "postprovision: $secret already exists in $vault; kept"
        exit 0
    }
    if ("$output" -match 'SecretNotFound') {
        break
    }
    if ($attempt -ge 30) {
        throw "postprovision: cannot read $secret from $vault`: $output"
    }
    Write-Host "postprovision: waiting for access to $vault ($attempt/30)"
    Start-Sleep -Seconds 10
}

# The value goes through a temporary file only the current user can read, never through a command line.
$file = New-TemporaryFile
try {
    if (-not $IsWindows) {
        & chmod 600 $file.FullName
    }
    $pepper = [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32))
    [System.IO.File]::WriteAllText($file.FullName, $pepper)
    & az keyvault secret set --subscription $subscription --vault-name $vault --name $secret --file $file.FullName `
        --encoding utf-8 --content-type 'HMAC key of API key hashes' --output none
    if ($LASTEXITCODE -ne 0) {
        throw "postprovision: could not create $secret in $vault"
    }
}
finally {
    Remove-Item -Force $file.FullName
}
Write-Host "postprovision: created $secret in $vault"

# Key Vault references are resolved when the app starts: restart so it reads the new secret.
& az functionapp restart --subscription $subscription --resource-group $group --name $app --output none
if ($LASTEXITCODE -ne 0) {
    throw "postprovision: could not restart $app"
}
