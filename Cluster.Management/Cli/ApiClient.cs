using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Management.Api;
using Shoal.Management.Gateway;

namespace Shoal.Management.Cli;

/// <summary>The CLI's side of the REST gateway: JSON in and out, and any error turned into one line.</summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _base;

    public ApiClient(string baseUrl, string token, TimeSpan timeout)
    {
        _base = baseUrl.TrimEnd('/');
        _http = new HttpClient { Timeout = timeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public string BaseUrl => _base;

    public async Task<T> Get<T>(string path) => (await Send<T>(HttpMethod.Get, path, null).ConfigureAwait(false)).Body;

    /// <summary>One page and the path of the next one (from the Link header, rel="next"), or null on the last page.</summary>
    public Task<(T Body, string? Next)> GetPage<T>(string path) => Send<T>(HttpMethod.Get, path, null);

    public async Task<T> Post<T>(string path, object? body) => (await Send<T>(HttpMethod.Post, path, body).ConfigureAwait(false)).Body;

    public async Task<T> Delete<T>(string path) => (await Send<T>(HttpMethod.Delete, path, null).ConfigureAwait(false)).Body;

    private async Task<(T Body, string? Next)> Send<T>(HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, _base + path);
        if (body != null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, body.GetType(), ApiJson.Options), Encoding.UTF8, "application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ApiCallException($"cannot reach the gateway at {_base}: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            throw new ApiCallException($"the gateway at {_base} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                ProblemDto? problem = null;
                try
                {
                    problem = JsonSerializer.Deserialize<ProblemDto>(text, ApiJson.Options);
                }
                catch (JsonException)
                {
                    // not problem+json (a proxy's page, say): reported as it is below
                }
                string reason = problem != null ? $"{problem.Title}: {problem.Detail ?? ""}".TrimEnd(' ', ':') : text.Trim();
                throw new ApiCallException($"{(int)response.StatusCode} {reason}");
            }
            try
            {
                T value = JsonSerializer.Deserialize<T>(text, ApiJson.Options) ?? throw new ApiCallException("the gateway answered null");
                return (value, NextPage(response));
            }
            catch (JsonException e)
            {
                throw new ApiCallException($"the gateway's answer is not what this CLI understands ({e.Message}); is it the same version?");
            }
        }
    }

    /// <summary>The path under the API base of a Link header's rel="next" target.</summary>
    private static string? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out IEnumerable<string>? links))
        {
            return null;
        }
        foreach (string link in links)
        {
            int open = link.IndexOf('<', StringComparison.Ordinal);
            int close = link.IndexOf('>', StringComparison.Ordinal);
            int api = link.IndexOf("/api/v1/", StringComparison.Ordinal);
            if (open >= 0 && close > api && api > open && link.Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                return link[(api + "/api/v1".Length)..close];
            }
        }
        return null;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The gateway refused or could not be reached: printed as one line, exit code 1.</summary>
public sealed class ApiCallException(string message) : Exception(message);
