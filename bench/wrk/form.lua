-- A guest's way through the submit form, one ticket per loop: GET the form (session cookie,
-- CSRF token and draft token), POST it, follow the redirect. A ticket counts once the page the
-- redirect leads to answers 200 and shows the ticket number that the redirect named.
--   BENCH_FORM_PATH    the page with the form, e.g. /submitticket?deptid=1
--   BENCH_FORM_FIELDS  the visible fields, url-encoded (name, email, subject, message, ...)
--   BENCH_RESULT       where done() writes the JSON result
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local form_path = os.getenv("BENCH_FORM_PATH")
local visible_fields = os.getenv("BENCH_FORM_FIELDS")
local step = "form"
local started = 0
local cookies = {}
local post_path = nil
local post_body = nil
local post_type = nil
local next_path = nil
local expected = nil

local function html_unescape(text)
  return (text:gsub("&quot;", '"'):gsub("&#34;", '"'):gsub("&#39;", "'"):gsub("&lt;", "<")
    :gsub("&gt;", ">"):gsub("&amp;", "&"))
end

local function url_decode(text)
  return (text:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

local function cookie_header()
  local pairs_ = {}
  for name, value in pairs(cookies) do
    pairs_[#pairs_ + 1] = name .. "=" .. value
  end
  return table.concat(pairs_, "; ")
end

local function keep_cookie(headers)
  local set_cookie = headers["Set-Cookie"] or headers["set-cookie"]
  if set_cookie then
    local name, value = set_cookie:match("^%s*([^=;]+)=([^;]*)")
    if name then
      cookies[name] = value
    end
  end
end

local function path_of(location)
  return location:gsub("^https?://[^/]+", "")
end

local function decode_pairs(encoded)
  local found = {}
  for name, value in encoded:gmatch("([^&=]+)=([^&]*)") do
    found[#found + 1] = { url_decode((name:gsub("+", " "))), url_decode((value:gsub("+", " "))) }
  end
  return found
end

-- As a browser sends the form: url-encoded, or multipart with the empty part of an unused
-- file input when the form says enctype="multipart/form-data".
local function encode_form(fields, multipart)
  if not multipart then
    local encoded = {}
    for _, field in ipairs(fields) do
      encoded[#encoded + 1] = url_encode(field[1]) .. "=" .. url_encode(field[2])
    end
    return "application/x-www-form-urlencoded", table.concat(encoded, "&")
  end
  local boundary = "----benchFormBoundary7MA4YWxkTrZu0gW"
  local parts = {}
  for _, field in ipairs(fields) do
    if field.file then
      parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\""
        .. field[1] .. "\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
    else
      parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\""
        .. field[1] .. "\"\r\n\r\n" .. field[2] .. "\r\n"
    end
  end
  parts[#parts + 1] = "--" .. boundary .. "--\r\n"
  return "multipart/form-data; boundary=" .. boundary, table.concat(parts)
end

-- The form that has a subject field: its hidden inputs, then the visible fields.
local function read_form(page)
  for attributes, inside in page:gmatch("<form([^>]*)>(.-)</form>") do
    if inside:find('name="subject"', 1, true) then
      local fields = {}
      for tag in inside:gmatch("<input[^>]*>") do
        local name = tag:match('name="([^"]*)"')
        if name and tag:find('type="hidden"', 1, true) then
          fields[#fields + 1] = { html_unescape(name), html_unescape(tag:match('value="([^"]*)"') or "") }
        elseif name and tag:find('type="file"', 1, true) then
          fields[#fields + 1] = { html_unescape(name), "", file = true }
        end
      end
      for _, field in ipairs(decode_pairs(visible_fields)) do
        fields[#fields + 1] = field
      end
      local action = attributes:match('action="([^"]*)"')
      local multipart = attributes:find("multipart/form-data", 1, true) ~= nil
      local content_type, encoded = encode_form(fields, multipart)
      return (action and action ~= "") and html_unescape(action) or form_path, encoded, content_type
    end
  end
  return nil, nil, nil
end

function request()
  local headers = {}
  local cookie = cookie_header()
  if cookie ~= "" then
    headers["Cookie"] = cookie
  end
  if step == "form" then
    started = now()
    return wrk.format("GET", form_path, headers)
  elseif step == "post" then
    headers["Content-Type"] = post_type
    return wrk.format("POST", post_path, headers, post_body)
  end
  return wrk.format("GET", next_path, headers)
end

function response(status, headers, body)
  keep_cookie(headers)
  if step == "form" then
    if status == 200 then
      post_path, post_body, post_type = read_form(body)
    end
    if post_path then
      step = "post"
    else
      refused = refused + 1
    end
  elseif step == "post" then
    local location = headers["Location"] or headers["location"]
    if (status == 302 or status == 303) and location then
      next_path = path_of(location)
      expected = url_decode(next_path:match("[?&]tid=([^&]+)") or next_path:match("/([^/?]+)$") or "")
      step = "confirm"
    else
      refused = refused + 1
      step = "form"
    end
  else
    if status == 200 and expected ~= "" and body:find(expected, 1, true) then
      record_proof(started)
    else
      refused = refused + 1
    end
    step = "form"
  end
end
